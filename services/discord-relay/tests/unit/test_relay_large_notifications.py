"""Huge notifications (issue 15): linear work, a responsive relay, a bounded Discord output.

The regression: every message re-counted the firing and resolved alerts of the whole
notification, so 20,000 alerts took seconds per message and 50,000 over a minute, all of it on
the event loop, with /healthz unanswered meanwhile. None of these tests measures time (the
benchmark, bench/bench_relay_large.py, does): they count work, and they check that /healthz is
answered while the largest notification the limits admit is still being relayed.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from discord_relay import app as app_module
from discord_relay import messages as messages_module
from discord_relay.inbound import Rejected, decode_notification
from discord_relay.messages import MAX_DETAILED_ALERTS, build_messages
from discord_relay.payloads import Alert, AlertmanagerNotification
from hypothesis import given, settings
from hypothesis import strategies as st
from testkit.alertmanager import webhook_alert, webhook_payload
from testkit.discord import validate_message

Build = Callable[..., Any]
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def small_alerts(count: int) -> list[dict[str, Any]]:
    return [
        webhook_alert("Flood", status="resolved" if n % 4 == 0 else "firing", labels={"i": str(n)})
        for n in range(count)
    ]


def render(payload: dict[str, Any]) -> list[dict[str, Any]]:
    notification = AlertmanagerNotification.model_validate(payload)
    rendered = build_messages(notification, "alertmanager", username="FastDining Alerts")
    for message in rendered:
        assert validate_message(message) == {}, json.dumps(message)[:300]
    return rendered


def test_a_huge_group_becomes_a_bounded_output_that_says_what_it_left_out() -> None:
    payload = webhook_payload(
        small_alerts(20_000),
        truncatedAlerts=500,
        receiver="on call",
        externalURL="http://alertmanager.example:9093/",
    )
    payload["groupLabels"] = {"alertname": "Flood", "team": 'a "b"'}
    rendered = render(payload)
    titles = [embed["title"] for message in rendered for embed in message.get("embeds", [])]
    assert len(titles) == MAX_DETAILED_ALERTS
    assert titles == [
        f"[{alert['status'].upper()}] Flood" for alert in payload["alerts"][:MAX_DETAILED_ALERTS]
    ]
    assert len(rendered) == MAX_DETAILED_ALERTS // 10, "short alerts, ten to a message"
    hidden = payload["alerts"][MAX_DETAILED_ALERTS:]
    hidden_resolved = sum(alert["status"] == "resolved" for alert in hidden)
    summary = rendered[-1]["content"]
    assert f"And {len(hidden) + 500:,} more alert(s) not shown" in summary
    assert f"{len(hidden) - hidden_resolved:,} firing, {hidden_resolved:,} resolved" in summary
    assert "500 left out by the sender (max_alerts)" in summary
    link = (
        "<http://alertmanager.example:9093/#/alerts?receiver=on%20call&filter="
        "%7Balertname%3D%22Flood%22%2Cteam%3D%22a%20%5C%22b%5C%22%22%7D>"
    )
    assert summary.endswith(f"See Alertmanager: {link}")
    assert "500 more alert(s)" in rendered[0]["content"], "the sender's cut, as before"
    for message in rendered[:-1]:
        assert "not shown" not in message["content"]


def test_without_a_usable_sender_url_the_summary_says_where_to_look_without_a_link() -> None:
    payload = webhook_payload(small_alerts(MAX_DETAILED_ALERTS + 1), externalURL="javascript:x")
    summary = render(payload)[-1]["content"]
    assert "And 1 more alert(s) not shown" in summary
    assert summary.endswith("See Alertmanager for the full list")


def test_up_to_the_bound_every_alert_is_shown_and_nothing_is_summed_up() -> None:
    rendered = render(webhook_payload(small_alerts(MAX_DETAILED_ALERTS)))
    assert sum(len(message["embeds"]) for message in rendered) == MAX_DETAILED_ALERTS
    assert not any("not shown" in message["content"] for message in rendered)


class CountingStatus(str):
    """An alert status that counts how often the message builder looks at it."""

    reads = 0

    def lower(self) -> str:
        CountingStatus.reads += 1
        return super().lower()

    def upper(self) -> str:
        CountingStatus.reads += 1
        return super().upper()


def status_reads(count: int) -> int:
    alerts = [
        Alert.model_construct(status=CountingStatus("firing"), labels={"alertname": "A"})
        for _ in range(count)
    ]
    notification = AlertmanagerNotification.model_construct(
        status="firing", alerts=alerts, group_labels={}, truncated_alerts=0
    )
    CountingStatus.reads = 0
    build_messages(notification, "alertmanager", username="x")
    return CountingStatus.reads


def test_building_messages_looks_at_each_alert_a_bounded_number_of_times() -> None:
    # Before the fix, each of the 1,000 messages of 10,000 alerts read all 10,000 statuses.
    small, large = status_reads(1_000), status_reads(10_000)
    assert large <= 3 * 10_000
    assert large - small <= 3 * 9_000, "the work grows with the alerts, not their square"


def test_only_the_shown_alerts_get_an_embed(monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    original = messages_module.alert_embed

    def counting(alert: Alert, *args: Any) -> dict[str, Any]:
        built.append(alert)
        return original(alert, *args)

    monkeypatch.setattr(messages_module, "alert_embed", counting)
    render(webhook_payload(small_alerts(5_000)))
    assert len(built) == MAX_DETAILED_ALERTS


def test_a_422_for_a_flood_of_bad_alerts_lists_a_bounded_number_of_problems() -> None:
    bad = [{"status": "firing", "labels": {"n": n}} for n in range(5_000)]
    body = json.dumps(webhook_payload(small_alerts(1)) | {"alerts": bad}).encode()
    with pytest.raises(Rejected) as refused:
        decode_notification(body, AlertmanagerNotification, "a payload")
    assert refused.value.status == 422
    assert "alerts.0.labels.n: Input should be a valid string" in refused.value.reason
    assert "(and 4997 more)" in refused.value.reason
    assert refused.value.errors is not None
    assert len(refused.value.errors) == 100
    assert refused.value.errors[-1]["loc"] == ["alerts", 99, "labels", "n"]


def largest_admitted_body() -> bytes:
    payload = webhook_payload([])
    smallest = {"status": "firing", "labels": {}}
    room = DEFAULT_MAX_BODY_BYTES - len(json.dumps(payload, separators=(",", ":")))
    payload["alerts"] = [smallest] * (
        room // (len(json.dumps(smallest, separators=(",", ":"))) + 1)
    )
    body = json.dumps(payload, separators=(",", ":")).encode()
    assert len(body) <= DEFAULT_MAX_BODY_BYTES
    return body


async def test_healthz_is_answered_while_the_largest_notification_is_decoded(
    make_settings: Build, relay_client: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: /healthz answers that arrive between the start and the end of
    decoding the largest body the limits admit. Decoding on the event loop would allow none."""
    decoding, decoded = threading.Event(), threading.Event()

    def watched(*args: Any) -> Any:
        decoding.set()
        try:
            return decode_notification(*args)
        finally:
            decoded.set()

    monkeypatch.setattr(app_module, "decode_notification", watched)
    body = largest_admitted_body()
    async with relay_client(make_settings()) as client:
        relaying = asyncio.create_task(
            client.post("/alertmanager", content=body, headers={"Content-Type": "application/json"})
        )
        answered_while_decoding = 0
        while not relaying.done():
            # An in-process call need not suspend: give the relaying task its turns.
            await asyncio.sleep(0.001)
            probe = await client.get("/healthz")
            assert probe.status_code == 200
            answered_while_decoding += decoding.is_set() and not decoded.is_set()
        response = await relaying
    assert response.status_code == 200, response.text
    assert decoded.is_set()
    assert answered_while_decoding >= 3
    assert response.json()["messages"] <= MAX_DETAILED_ALERTS


@pytest.mark.parametrize(("alerts", "hand_offs"), [(1, 0), (100, 0), (2_000, 3)])
async def test_only_a_large_body_is_handed_to_a_worker_thread(
    alerts: int,
    hand_offs: int,
    make_settings: Build,
    relay_client: Build,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Small bodies are decoded and planned on the event loop: each hand-off to a thread and
    back cost more than the work (bench/RESULTS.md). A large one takes three (decode, plan,
    release) so the loop keeps answering."""
    threaded: list[str] = []
    real = asyncio.to_thread

    async def counted(function: Callable[..., Any], /, *args: Any) -> Any:
        threaded.append(getattr(function, "__name__", repr(function)))
        return await real(function, *args)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    body = json.dumps(webhook_payload(small_alerts(alerts))).encode()
    assert (len(body) > app_module.INLINE_BODY_BYTES) == (hand_offs > 0), len(body)
    async with relay_client(make_settings()) as client:
        response = await client.post(
            "/alertmanager", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200, response.text
    assert len(threaded) == hand_offs, threaded


@settings(max_examples=12, derandomize=True, deadline=None, database=None)
@given(
    count=st.integers(min_value=0, max_value=250)
    | st.integers(min_value=5_000, max_value=20_000)
    | st.sampled_from([MAX_DETAILED_ALERTS - 1, MAX_DETAILED_ALERTS, MAX_DETAILED_ALERTS + 1]),
    truncated=st.integers(min_value=0, max_value=10**6),
    resolved_every=st.integers(min_value=1, max_value=10),
)
def test_any_alert_count_gives_a_bounded_valid_output_that_counts_every_alert(
    count: int, truncated: int, resolved_every: int
) -> None:
    alerts = [
        webhook_alert("A", status="resolved" if n % resolved_every == 0 else "firing")
        for n in range(count)
    ]
    rendered = render(webhook_payload(alerts, truncatedAlerts=truncated))
    shown = sum(len(message.get("embeds", [])) for message in rendered)
    assert shown == min(count, MAX_DETAILED_ALERTS)
    assert len(rendered) <= MAX_DETAILED_ALERTS
    summary = rendered[-1]["content"]
    if count > MAX_DETAILED_ALERTS:
        assert f"And {count - MAX_DETAILED_ALERTS + truncated:,} more alert(s)" in summary
    else:
        assert "not shown" not in summary
