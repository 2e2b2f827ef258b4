"""The inbound API in-process (log sink): auth, every bad-input class, probes, metrics, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any, get_args

import httpx
import pytest
from discord_relay.app import create_app
from discord_relay.inbound import read_limited
from discord_relay.metrics import Outcome
from discord_relay.relay import Relay
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect
from testkit.alertmanager import webhook_alert, webhook_payload

TOKEN = "t0ken-for-tests"
VALID = webhook_payload([webhook_alert("HighLatency", labels={"severity": "warning"})])


@pytest.fixture
async def client(
    make_settings: Callable[..., Any], relay_client: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(RELAY_AUTH_TOKEN=TOKEN, RELAY_MAX_BODY_BYTES=64 * 1024)
    async with relay_client(settings) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


async def test_a_valid_notification_is_accepted_on_both_endpoints(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/alertmanager", "/grafana"):
        response = await client.post(path, json=VALID)
        assert response.status_code == 200, response.text
        assert response.json()["messages"] == 1


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer", f"bearer{TOKEN}"],
)
async def test_a_missing_or_wrong_token_gets_401(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    client.headers.pop("Authorization")
    response = await client.post("/alertmanager", json=VALID, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token" in response.json()["error"]
    assert TOKEN not in response.text


async def test_the_token_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/grafana", json=VALID, headers={"Authorization": f"bearer {TOKEN}"}
    )
    assert response.status_code == 200


async def test_a_body_over_the_limit_gets_413_declared_or_streamed(
    client: httpx.AsyncClient,
) -> None:
    big = json.dumps(
        webhook_payload([webhook_alert("A", annotations={"description": "x" * 70_000})])
    ).encode()
    declared = await client.post(
        "/alertmanager", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert "65536 bytes" in declared.json()["error"]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    # No Content-Length (chunked): the limit holds as the bytes arrive.
    streamed = await client.post(
        "/alertmanager", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_reading_a_body_stops_when_the_sender_disconnects() -> None:
    received = iter(
        [
            {"type": "http.request", "body": b'{"status": "fir', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, Any]:
        return next(received)

    with pytest.raises(ClientDisconnect):
        await read_limited(receive, "", 64 * 1024)


@pytest.mark.parametrize(
    ("first", "second", "status"),
    [("Bearer wrong", f"Bearer {TOKEN}", 401), (f"Bearer {TOKEN}", "Bearer wrong", 200)],
)
async def test_of_a_repeated_header_the_first_counts(
    client: httpx.AsyncClient, first: str, second: str, status: int
) -> None:
    client.headers.pop("Authorization")
    response = await client.post(
        "/alertmanager",
        content=json.dumps(VALID).encode(),
        headers=[
            ("Content-Type", "application/json"),
            ("Authorization", first),
            ("Authorization", second),
        ],
    )
    assert response.status_code == status


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_declared_json_gets_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await client.post("/alertmanager", content=json.dumps(VALID), headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


async def test_json_with_a_charset_or_a_json_suffix_is_fine(client: httpx.AsyncClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.grafana+json"):
        response = await client.post(
            "/grafana", content=json.dumps(VALID), headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, content_type


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[" * 50_000, "nested too deeply"),
        (b'{"status": NaN}', "not valid JSON"),
        (b'{"truncatedAlerts": 1' + b"0" * 5000 + b"}", "not valid JSON"),
    ],
)
async def test_malformed_json_gets_422_with_the_reason(
    client: httpx.AsyncClient, body: bytes, reason: str
) -> None:
    response = await client.post(
        "/alertmanager", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert reason in response.json()["error"]


async def test_lone_surrogate_escapes_arrive_as_replacement_characters(
    make_settings: Callable[..., Any],
    relay_client: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Half a UTF-16 pair, which no UTF encoding can hold, in either case: in shown text, and in a
    # label name (without a fingerprint the labels make the deduplication key, encoded as UTF-8).
    # A pair split by other text is two lone halves; a whole pair is a character.
    alert = (
        '{"status": "firing", "labels": {"alertname": "Disk\\ud800Full", "\\uDC00": "x"}, '
        '"annotations": {"summary": "x\\udfffy \\ud83d-\\ude00 \\ud83d\\ude00"}}'
    )
    body = f'{{"status": "firing", "alerts": [{alert}]}}'.encode()
    async with relay_client(make_settings()) as client:
        response = await client.post(
            "/alertmanager", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200, response.text
    [line] = [line for line in capsys.readouterr().out.splitlines() if "discord_message" in line]
    [embed] = json.loads(line)["fields"]["discord_message"]["embeds"]
    assert embed["title"] == "[FIRING] Disk\ufffdFull"
    assert embed["description"] == "x\ufffdy \ufffd-\ufffd 😀"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([VALID], "body"),
        ({**VALID, "alerts": "all of them"}, "alerts"),
        ({**VALID, "status": None}, "status"),
        ({k: v for k, v in VALID.items() if k != "alerts"}, "alerts"),
        ({**VALID, "alerts": [{**VALID["alerts"][0], "labels": {"severity": 3}}]}, "labels"),
        ({**VALID, "truncatedAlerts": -1}, "truncatedAlerts"),
    ],
)
async def test_the_wrong_shape_gets_422_naming_the_field(
    client: httpx.AsyncClient, body: Any, where: str
) -> None:
    response = await client.post("/alertmanager", json=body)
    assert response.status_code == 422
    answer = response.json()
    assert where in answer["error"]
    assert answer["errors"], "the full list of problems is given too"


async def test_a_grafana_field_of_the_wrong_type_is_refused_on_grafana_only(
    client: httpx.AsyncClient,
) -> None:
    alert = {**VALID["alerts"][0], "values": {"A": "not a number"}}
    body = {**VALID, "alerts": [alert]}
    grafana = await client.post("/grafana", json=body)
    assert grafana.status_code == 422
    assert "alerts.0.values.A" in grafana.json()["error"]
    # Alertmanager has no `values`: on its endpoint the extra field is ignored.
    assert (await client.post("/alertmanager", json=body)).status_code == 200


async def test_probes_say_alive_and_which_sink_is_in_use(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "alive"}
    ready = (await client.get("/readyz")).json()
    assert ready["sink"] == "log"
    assert "log sink mode" in ready["detail"]


async def test_metrics_count_notifications_by_source_and_answer(client: httpx.AsyncClient) -> None:
    await client.post("/alertmanager", json=VALID)
    await client.post("/grafana", json=VALID)
    await client.post("/grafana", json={})
    text = (await client.get("/metrics")).text
    assert 'discord_relay_notifications_total{code="200",source="alertmanager"} 1.0' in text
    assert 'discord_relay_notifications_total{code="200",source="grafana"} 1.0' in text
    assert 'discord_relay_notifications_total{code="422",source="grafana"} 1.0' in text
    assert 'discord_relay_discord_requests_total{outcome="ok",sink="log"} 2.0' in text
    assert "discord_relay_delivery_seconds_count" in text


async def test_a_trailing_slash_reaches_the_same_endpoint(client: httpx.AsyncClient) -> None:
    assert (await client.post("/alertmanager/", json=VALID)).json()["status"] == "delivered"


async def test_a_notification_endpoint_takes_post_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/alertmanager")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "/alertmanager takes POST only, not GET"
    text = (await client.get("/metrics")).text
    assert 'discord_relay_notifications_total{code="405",source="alertmanager"} 1.0' in text


async def test_every_outcome_of_the_sink_is_exported_from_zero(client: httpx.AsyncClient) -> None:
    """A refusals panel shows 0 before the first refusal, not "no data"."""
    text = (await client.get("/metrics")).text
    for outcome in get_args(Outcome):
        assert f'discord_relay_discord_requests_total{{outcome="{outcome}",sink="log"}} 0.0' in text
    assert 'sink="discord"' not in text


async def _injected_fault(*args: object, **kwargs: object) -> None:
    raise RuntimeError("injected fault")


def test_an_unhandled_error_is_counted_as_500_and_left_to_the_server(
    make_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: whatever bug breaks a delivery, the notifications counter must show it;
    # the error reaches the server (uvicorn answers 500), with nothing sent before it.
    monkeypatch.setattr(Relay, "deliver", _injected_fault)
    with TestClient(create_app(make_settings()), raise_server_exceptions=True) as client:
        with pytest.raises(RuntimeError, match="injected fault"):
            client.post("/grafana", json=VALID)
        text = client.get("/metrics").text
    assert 'discord_relay_notifications_total{code="500",source="grafana"} 1.0' in text


def test_the_app_has_no_middleware_the_notification_endpoints_would_skip(
    make_settings: Callable[..., Any],
) -> None:
    assert create_app(make_settings()).user_middleware == []


async def test_the_openapi_document_describes_both_request_bodies(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for path, model in (
        ("/alertmanager", "AlertmanagerNotification"),
        ("/grafana", "GrafanaNotification"),
    ):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"] == f"#/components/schemas/{model}"
        assert "alerts" in schemas[model]["required"]
    assert "valueString" in schemas["GrafanaAlert"]["properties"]


async def test_without_a_token_configured_no_authorization_is_needed(
    make_settings: Callable[..., Any], relay_client: Callable[..., Any]
) -> None:
    async with relay_client(make_settings()) as client:
        assert (await client.post("/alertmanager", json=VALID)).status_code == 200
