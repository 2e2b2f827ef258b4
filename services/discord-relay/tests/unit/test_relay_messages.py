"""Building Discord messages: one embed per alert, every limit held, nothing dropped silently.

Each message is checked with the Discord stand-in's validator, written apart from the relay, so
the relay's idea of the limits is checked against a second one.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from discord_relay.markdown import escape
from discord_relay.messages import (
    COLOUR_FIRING,
    COLOUR_OTHER,
    COLOUR_RESOLVED,
    DESCRIPTION_MAX,
    ELLIPSIS,
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE,
    FIELD_VALUE_MAX,
    TITLE_MAX,
    build_messages,
    clip,
    duration_text,
    text_length,
)
from discord_relay.payloads import AlertmanagerNotification, GrafanaNotification
from hypothesis import given, settings
from hypothesis import strategies as st
from testkit.alertmanager import webhook_alert, webhook_payload
from testkit.discord import embed_size, validate_message


def render(payload: dict[str, Any], source: str = "alertmanager") -> list[dict[str, Any]]:
    model = GrafanaNotification if source == "grafana" else AlertmanagerNotification
    messages = build_messages(model.model_validate(payload), source, username="FastDining Alerts")  # type: ignore[arg-type]
    for message in messages:
        assert validate_message(message) == {}, json.dumps(message)[:500]
    return messages


def embeds(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [embed for message in messages for embed in message.get("embeds", [])]


def test_a_firing_alert_becomes_one_red_embed_with_its_facts_and_links() -> None:
    payload = webhook_payload(
        [
            webhook_alert(
                "HighErrorRate",
                labels={"severity": "critical", "job": "fastapi", "instance": "10.0.0.7:8000"},
                annotations={
                    "summary": "5xx ratio above 1%",
                    "description": "2.3% of requests failed over 5m",
                    "runbook_url": "https://runbooks.example/errors",
                },
            )
        ]
    )
    [message] = render(payload)
    [embed] = message["embeds"]
    assert embed["title"] == "[FIRING] HighErrorRate"
    assert embed["color"] == COLOUR_FIRING
    assert embed["description"] == "5xx ratio above 1%\n\n2.3% of requests failed over 5m"
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Severity"] == "critical"
    assert fields["Job"] == "fastapi"
    assert fields["Instance"] == "10.0.0.7:8000"
    assert "[Runbook](https://runbooks.example/errors)" in fields["Links"]
    assert "[Source](http://prometheus.example/graph?g0.expr=HighErrorRate)" in fields["Links"]
    assert embed["timestamp"] == "2026-11-23T10:00:00.123Z"
    assert message["allowed_mentions"] == {"parse": []}, "alert text must never ping anyone"
    assert "FIRING:1" in message["content"]


def test_the_service_label_wins_over_job_and_status_picks_the_colour() -> None:
    payload = webhook_payload(
        [
            webhook_alert("A", status="resolved", labels={"service": "web", "job": "django"}),
            webhook_alert("B", status="suppressed"),
            webhook_alert("C", status="resolved", endsAt="0001-01-01T00:00:00Z"),
        ]
    )
    first, second, third = embeds(render(payload))
    assert {"name": "Service", "value": "web", "inline": True} in first["fields"]
    assert first["color"] == COLOUR_RESOLVED
    assert first["timestamp"] == "2026-11-23T10:05:00.000Z", "a resolved alert shows its end"
    assert second["color"] == COLOUR_OTHER
    assert second["timestamp"] == "2026-11-23T10:00:00.123Z"
    assert "timestamp" not in third, "Alertmanager's zero time is not a time"


def test_a_resolved_alert_says_when_it_started_and_how_long_it_lasted_not_its_last_value() -> None:
    frozen = {"summary": "burning at 1000.0x (page)", "runbook_url": "https://runbooks.example/a"}
    resolved = webhook_alert(
        "FastapiAvailability",
        status="resolved",
        annotations=frozen,
        startsAt="2026-11-23T10:00:00.123456789Z",
        endsAt="2026-11-23T10:04:12.5Z",
    )
    firing = webhook_alert("FastapiAvailability", annotations=frozen)
    [ended, going] = embeds(render(webhook_payload([resolved, firing])))
    assert ended["description"] == "Resolved. Started 2026-11-23 10:00:00 UTC, lasted 4 min 12 s."
    assert "1000.0x" not in json.dumps(ended)
    assert "[Runbook](https://runbooks.example/a)" in ended["fields"][-1]["value"]
    assert going["description"] == "burning at 1000.0x (page)", "a firing alert keeps its text"


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "text"),
    [
        ("", "", "Resolved."),
        ("0001-01-01T00:00:00Z", "2026-11-23T10:04:12Z", "Resolved."),  # Alertmanager's zero time
        ("2026-11-23T10:00:00Z", "", "Resolved. Started 2026-11-23 10:00:00 UTC."),
        (
            "2026-11-23T10:00:00Z",
            "0001-01-01T00:00:00Z",
            "Resolved. Started 2026-11-23 10:00:00 UTC.",
        ),
        (
            "2026-11-23T10:00:00Z",
            "2026-11-23T09:59:00Z",
            "Resolved. Started 2026-11-23 10:00:00 UTC.",
        ),
        (  # Grafana: milliseconds and an offset
            "2026-11-23T11:00:00.000+01:00",
            "2026-11-23T12:30:05.250+01:00",
            "Resolved. Started 2026-11-23 10:00:00 UTC, lasted 1 h 30 min.",
        ),
    ],
)
def test_a_resolved_alert_without_usable_times_says_only_what_it_knows(
    starts_at: str, ends_at: str, text: str
) -> None:
    alert = webhook_alert("A", status="resolved", startsAt=starts_at, endsAt=ends_at)
    [embed] = embeds(render(webhook_payload([alert], status="resolved")))
    assert embed["description"] == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59.9, "59 s"), (60, "1 min 0 s"), (3725, "1 h 2 min"), (90061, "1 d 1 h")],
)
def test_durations_read_in_their_two_largest_units(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            "**bold** _it_ ~~x~~ `code` ||spoiler||",
            r"\*\*bold\*\* \_it\_ \~\~x\~\~ \`code\` \|\|spoiler\|\|",
        ),
        ("[Approve](https://evil.example/x)", r"\[Approve\](https://evil.example/x)"),
        ("<@123> <t:1:R> a < b", r"<\@123> <t\:1:R> a < b"),
        (
            "# heading\n> quote\n- item\n1. first\n-# small",
            "\\# heading\n\\> quote\n\\- item\n1\\. first\n\\-# small",
        ),
        ("2.3% at 10:00, job-1 (ok)", "2.3% at 10:00, job-1 (ok)"),
        (  # a bare URL stays a working link: a backslash in it would break it
            "see https://grafana.example/d/slo_overview?var-slo=fastapi_availability",
            "see https://grafana.example/d/slo_overview?var-slo=fastapi_availability",
        ),
    ],
)
def test_alert_text_is_escaped_for_discord_markdown(value: str, shown: str) -> None:
    alert = webhook_alert(
        value, labels={"severity": value, "instance": value}, annotations={"summary": value}
    )
    [embed] = embeds(render(webhook_payload([alert], groupLabels={"alertname": value})))
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert embed["title"] == f"[FIRING] {shown}"
    assert embed["description"] == shown
    assert fields["Severity"] == fields["Instance"] == shown


@pytest.mark.parametrize(
    "runbook",
    [
        "https://runbooks.ok) [Approve rollback](https://evil.example/x",
        "javascript:alert(1)",
        "https://runbooks.ok/a b",
        "//evil.example/x",
        "https://[::1",
    ],
)
def test_a_link_is_a_link_only_for_a_plain_http_url_else_it_is_text(runbook: str) -> None:
    alert = webhook_alert("A", annotations={"runbook_url": runbook})
    [embed] = embeds(render(webhook_payload([alert])))
    links = {field["name"]: field["value"] for field in embed["fields"]}["Links"]
    assert "[Runbook](" not in links
    assert f"Runbook: {escape(runbook)}" in links
    # Every "[" left unescaped opens one of the relay's own links.
    assert re.findall(r"(?<!\\)\[(\w+)\]\(", links) == ["Source"], links


@pytest.mark.parametrize(
    "starts_at",
    [
        "9999-12-31T23:59:59-14:00",  # after the year 9999 in UTC: Python cannot hold it
        "9999-12-31001-2300",  # an ISO ordinal date, the same overflow
        "2026-11-23T10:00:00",  # no offset: no telling when it was
        "soon",
    ],
)
def test_a_start_that_is_no_utc_time_shows_no_timestamp(starts_at: str) -> None:
    [embed] = embeds(render(webhook_payload([webhook_alert("A", startsAt=starts_at)])))
    assert embed["title"] == "[FIRING] A"
    assert "timestamp" not in embed


def test_57_alerts_with_long_annotations_are_split_and_all_arrive_in_order() -> None:
    alerts = [
        webhook_alert(
            f"Alert{number:02d}",
            annotations={"summary": "s" * 300, "description": "d" * 3000},
            labels={"instance": f"host-{number}"},
        )
        for number in range(57)
    ]
    messages = render(webhook_payload(alerts))
    titles = [embed["title"] for embed in embeds(messages)]
    assert titles == [f"[FIRING] Alert{number:02d}" for number in range(57)]
    assert len(messages) > 1
    for index, message in enumerate(messages):
        assert f"(part {index + 1}/{len(messages)})" in message["content"]
        assert len(message["embeds"]) <= EMBEDS_PER_MESSAGE
        assert sum(embed_size(embed) for embed in message["embeds"]) <= EMBED_TOTAL_MAX


def test_short_alerts_are_packed_ten_to_a_message() -> None:
    messages = render(webhook_payload([webhook_alert(f"A{n}") for n in range(25)]))
    assert [len(message["embeds"]) for message in messages] == [10, 10, 5]


def test_text_over_a_limit_is_cut_with_an_ellipsis_and_still_fits() -> None:
    huge = "x" * 20_000
    payload = webhook_payload(
        [
            webhook_alert(
                "N" * 1000,
                labels={"severity": huge, "job": huge, "instance": huge},
                annotations={"summary": huge, "description": huge, "runbook_url": huge},
            )
        ]
    )
    [embed] = embeds(render(payload))
    assert embed["title"].endswith(ELLIPSIS)
    assert text_length(embed["title"]) == TITLE_MAX
    assert embed["description"].endswith(ELLIPSIS)
    assert text_length(embed["description"]) <= DESCRIPTION_MAX
    for field in embed["fields"]:
        assert field["value"].endswith(ELLIPSIS)
        assert text_length(field["value"]) == FIELD_VALUE_MAX
    assert embed_size(embed) <= EMBED_TOTAL_MAX


def test_alerts_alertmanager_left_out_are_reported_in_the_first_message() -> None:
    payload = webhook_payload([webhook_alert(f"A{n}") for n in range(12)], truncatedAlerts=7)
    first, second = render(payload)
    assert "7 more alert(s)" in first["content"]
    assert "more alert" not in second["content"]


def test_an_absurd_truncated_count_still_fits_the_content_limit() -> None:
    [message] = render(webhook_payload([webhook_alert("A")], truncatedAlerts=10**3000))
    assert message["content"].endswith(ELLIPSIS)


def test_a_notification_without_alerts_still_says_something() -> None:
    [message] = render(webhook_payload([], status="resolved", receiver="team"))
    assert "embeds" not in message
    assert "no alerts" in message["content"]


def test_grafana_values_and_links_are_shown_and_its_title_heads_the_message() -> None:
    alert = webhook_alert(
        "DiskFull",
        values={"B": 97.5, "C": 1.0},
        valueString="[ var='B' labels={} value=97.5 ]",
        dashboardURL="http://grafana.example/d/abc",
        panelURL="http://grafana.example/d/abc?viewPanel=2",
        silenceURL="http://grafana.example/alerting/silence/new",
    )
    payload = webhook_payload([alert], title="[FIRING:1] DiskFull", state="alerting", orgId=1)
    [message] = render(payload, "grafana")
    assert message["content"].startswith(r"\[FIRING:1\] DiskFull")  # Grafana's text, escaped
    [embed] = message["embeds"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Values"] == r"\[ var='B' labels={} value=97.5 \]"
    for name in ("Dashboard", "Panel", "Silence", "Source"):
        assert f"[{name}](" in fields["Links"]
    assert embed["footer"]["text"] == "Grafana · relay"


def test_grafana_values_without_a_value_string_are_listed() -> None:
    payload = webhook_payload([webhook_alert("X", values={"A": 0.5, "B": None})])
    [embed] = embeds(render(payload, "grafana"))
    assert {"name": "Values", "value": "A=0.5", "inline": False} in embed["fields"]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc", 3, "abc"),
        ("abcd", 3, "ab…"),
        ("a😀", 3, "a😀"),  # the emoji is two UTF-16 units: it fits exactly
        ("a😀b", 3, "a…"),  # never half an emoji
    ],
)
def test_clip_counts_utf16_units_and_never_splits_a_character(
    text: str, limit: int, expected: str
) -> None:
    assert clip(text, limit) == expected
    assert text_length(clip(text, limit)) <= limit


# Text that stresses the counting: astral characters, combining marks, markdown, mentions.
_TEXT = st.lists(
    st.sampled_from(["a", "Z", " ", "\n", "é", "😀", "\U0001d518", "e\u0301", "*", "@", "\\"]),
    max_size=1500,
).map("".join)
_OFFSETS = st.none() | st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
# Any text, and times near both ends of what Python can represent (an offset can push them past).
_TIMES = st.text(max_size=40) | st.one_of(
    st.datetimes(max_value=datetime(1, 1, 2), timezones=_OFFSETS),
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=_OFFSETS),
    st.datetimes(timezones=_OFFSETS),
).map(datetime.isoformat)
_LABELS = st.dictionaries(
    st.sampled_from(["severity", "job", "service", "instance", "team"]), _TEXT, max_size=5
)
_ALERTS = st.builds(
    lambda name, status, labels, summary, description, runbook, starts_at, ends_at: webhook_alert(
        name,
        status=status,
        labels=labels,
        annotations={"summary": summary, "description": description, "runbook_url": runbook},
        valueString=summary[:50],
        startsAt=starts_at,
        endsAt=ends_at,
    ),
    name=_TEXT,
    status=st.sampled_from(["firing", "resolved", "unknown"]),
    labels=_LABELS,
    summary=_TEXT,
    description=st.one_of(_TEXT, st.just("d" * 9000)),
    runbook=_TEXT,
    starts_at=_TIMES,
    ends_at=_TIMES,
)


@settings(max_examples=150, deadline=None)
@given(
    alerts=st.lists(_ALERTS, max_size=30),
    title=_TEXT,
    truncated=st.integers(min_value=0, max_value=10**6),
)
def test_any_notification_becomes_valid_messages_with_every_alert_once(
    alerts: list[dict[str, Any]], title: str, truncated: int
) -> None:
    payload = webhook_payload(alerts, title=title * 3, truncatedAlerts=truncated)
    messages = render(payload, "grafana")
    rendered = embeds(messages)
    assert len(rendered) == len(alerts)
    for alert, embed in zip(alerts, rendered, strict=True):
        name = escape(alert["labels"]["alertname"] or "alert")
        full, shown = f"[{alert['status'].upper()}] {name}", embed["title"]
        assert shown == full or (shown.endswith(ELLIPSIS) and full.startswith(shown[:-1]))
    if truncated:
        assert f"{truncated} more alert(s)" in messages[0]["content"]
