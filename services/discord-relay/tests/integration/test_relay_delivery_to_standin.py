"""Delivery to the Discord stand-in (a real uvicorn process): splitting, 429, outages, no repeats.

The relay runs in-process; everything it sends crosses a real socket to the stand-in, which
refuses anything over Discord's limits with a 400, as Discord does.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from testkit.alertmanager import webhook_alert, webhook_payload
from testkit.discord import Standin, validate_message
from testkit.scrape import parse, total

pytestmark = pytest.mark.integration

Build = Callable[..., Any]


def alerts(count: int, *, name: str = "Alert", long: bool = False) -> list[dict[str, Any]]:
    annotations = {"summary": "s" * 400, "description": "d" * 3800} if long else {}
    return [
        webhook_alert(f"{name}{number:02d}", annotations=annotations, labels={"i": str(number)})
        for number in range(count)
    ]


def titles(standin: Standin) -> list[str]:
    return [
        embed["title"]
        for record in standin.accepted()
        for embed in record["body"].get("embeds", [])
    ]


def answers(standin: Standin) -> list[Any]:
    return [request["answer"] for request in standin.requests()]


async def test_57_long_alerts_all_reach_discord_within_every_limit(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    async with relay_client(discord_settings()) as client:
        response = await client.post("/alertmanager", json=webhook_payload(alerts(57, long=True)))
    assert response.status_code == 200, response.text
    assert answers(standin) == [200] * response.json()["messages"], "the stand-in refused none"
    assert titles(standin) == [f"[FIRING] Alert{number:02d}" for number in range(57)]
    for record in standin.accepted():
        assert validate_message(record["body"]) == {}


async def test_a_429_is_honoured_no_retry_before_retry_after(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    standin.set_mode("429", retry_after=0.7, count=1)
    async with relay_client(discord_settings()) as client:
        response = await client.post("/alertmanager", json=webhook_payload(alerts(1)))
    assert response.status_code == 200
    limited, retried = standin.requests()
    assert (limited["answer"], retried["answer"]) == (429, 200)
    assert retried["monotonic"] - limited["monotonic"] >= 0.7
    assert len(standin.accepted()) == 1


async def test_an_empty_bucket_is_waited_out_before_the_next_message(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    # Discord's X-RateLimit-Remaining: 0 with Reset-After: the relay waits instead of earning a 429.
    standin.set_mode("ok", reset_after=0.5)
    async with relay_client(discord_settings()) as client:
        response = await client.post("/alertmanager", json=webhook_payload(alerts(11)))
    assert response.status_code == 200
    first, second = standin.requests()
    assert second["monotonic"] - first["monotonic"] >= 0.5
    assert answers(standin) == [200, 200]


async def test_a_429_longer_than_the_budget_gets_503_with_retry_after(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    standin.set_mode("429", retry_after=30, count=1)
    async with relay_client(discord_settings()) as client:
        response = await client.post("/alertmanager", json=webhook_payload(alerts(1)))
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) >= 30
        assert "rate_limited" in response.json()["error"]
    assert answers(standin) == [429], "no second request inside retry_after"


async def test_an_outage_gets_503_then_the_retry_delivers_each_message_once(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    payload = webhook_payload(alerts(25, long=True))
    # Discord takes the first 3 messages, then fails: the caller must retry, and the retry must
    # post only what is missing.
    standin.set_mode("500", after=3)
    async with relay_client(discord_settings(RELAY_DELIVERY_BUDGET_SECONDS=1)) as client:
        failed = await client.post("/alertmanager", json=payload)
        assert failed.status_code == 503
        assert failed.json()["delivered"] == 3
        assert "Retry-After" in failed.headers
        standin.set_mode("ok")
        retried = await client.post("/alertmanager", json=payload)
        assert retried.status_code == 200
        assert retried.json()["already_delivered"] == 3
        again = await client.post("/alertmanager", json=payload)
        assert again.json() == {**retried.json(), "sent": 0, "already_delivered": 25}
        metrics = (await client.get("/metrics")).text
    assert Counter(titles(standin)) == Counter(f"[FIRING] Alert{n:02d}" for n in range(25))
    # Every outcome is exported from 0, so the count itself must have moved.
    server_errors = {"sink": "discord", "outcome": "server_error"}
    assert total(parse(metrics), "discord_relay_discord_requests_total", server_errors) >= 1
    assert "discord_relay_discord_retries_total" in metrics


async def test_5xx_is_retried_with_backoff_within_the_request(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    standin.set_mode("500", count=2)
    async with relay_client(discord_settings()) as client:
        response = await client.post("/grafana", json=webhook_payload(alerts(1)))
    assert response.status_code == 200
    assert answers(standin) == [500, 500, 200]


async def test_a_hanging_discord_times_out_and_gets_503(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    standin.set_mode("hang", hang_seconds=5)
    settings = discord_settings(
        RELAY_DISCORD_TIMEOUT_SECONDS=0.3, RELAY_DELIVERY_BUDGET_SECONDS=1.5
    )
    async with relay_client(settings) as client:
        response = await client.post("/alertmanager", json=webhook_payload(alerts(1)))
    assert response.status_code == 503
    assert "timeout" in response.json()["error"]
    assert set(answers(standin)) == {"hang"}
    assert standin.accepted() == []


async def test_a_refused_connection_gets_503_and_delivery_resumes_when_discord_is_back(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    payload = webhook_payload(alerts(2))
    async with relay_client(discord_settings(RELAY_DELIVERY_BUDGET_SECONDS=1)) as client:
        with standin.down():
            failed = await client.post("/alertmanager", json=payload)
        assert failed.status_code == 503
        assert "connection_error" in failed.json()["error"]
        delivered = await client.post("/alertmanager", json=payload)
        assert delivered.status_code == 200
    assert titles(standin) == ["[FIRING] Alert00", "[FIRING] Alert01"]


@pytest.mark.parametrize(
    ("webhook", "status"),
    [("400000000000000002/known-token", 404), ("400000000000000001/wrong-token", 401)],
)
async def test_a_webhook_discord_refuses_is_tried_once_not_in_a_loop(
    standin: Standin, make_settings: Build, relay_client: Build, webhook: str, status: int
) -> None:
    # A deleted webhook or a wrong token: Discord answers 404 or 401, and retrying is futile.
    standin.webhook_url("400000000000000001", "known-token")
    settings = make_settings(DISCORD_WEBHOOK_URL=f"{standin.base_url}/api/webhooks/{webhook}")
    async with relay_client(settings) as client:
        response = await client.post("/alertmanager", json=webhook_payload(alerts(1)))
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 503
    assert f"refused the message: HTTP {status}" in response.json()["error"]
    assert answers(standin) == [status], "exactly one attempt"
    assert 'discord_relay_discord_requests_total{outcome="rejected",sink="discord"} 1.0' in metrics
    assert "discord_relay_discord_retries_total 0.0" in metrics


async def test_concurrent_copies_of_one_notification_post_each_message_once(
    standin: Standin, discord_settings: Build, relay_client: Build
) -> None:
    payload = webhook_payload(alerts(30))
    async with relay_client(discord_settings()) as client:
        responses = await asyncio.gather(
            *(client.post("/alertmanager", json=payload) for _ in range(4))
        )
    assert [r.status_code for r in responses] == [200] * 4
    assert sorted(r.json()["sent"] for r in responses) == [0, 0, 0, 3]
    assert Counter(titles(standin)) == Counter(f"[FIRING] Alert{n:02d}" for n in range(30))


async def test_the_webhook_url_never_appears_in_the_logs(
    standin: Standin,
    discord_settings: Build,
    relay_client: Build,
    capsys: pytest.CaptureFixture[str],
) -> None:
    standin.set_mode("500", count=1)
    async with relay_client(discord_settings(RELAY_AUTH_TOKEN="very-secret-token")) as client:
        response = await client.post(
            "/alertmanager",
            json=webhook_payload(alerts(1)),
            headers={"Authorization": "Bearer very-secret-token"},
        )
        assert response.status_code == 200
    output = capsys.readouterr().out
    assert "discord message" not in output, "not in log sink mode"
    assert "discord request failed" in output, "the retry was logged"
    assert "standin-token" not in output
    assert "very-secret-token" not in output
    assert httpx.URL(standin.webhook_url()).path not in output
