"""Logs are JSON lines and never carry the webhook URL, its token, or the bearer token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from discord_relay.logging import REDACTED, configure_logging
from testkit.alertmanager import webhook_alert, webhook_payload

URL = "https://discord.com/api/webhooks/123/TOKEN-abc"
SECRETS = [URL, "TOKEN-abc", 'bearer-"quoted"-token']


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    configure_logging(SECRETS, "DEBUG", stream=out)
    yield out
    configure_logging([], "WARNING")


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_its_extra_fields(stream: io.StringIO) -> None:
    logging.getLogger("discord_relay.test").info("hello %s", "world", extra={"parts": 3})
    [entry] = lines(stream)
    assert entry["message"] == "hello world"
    assert entry["level"] == "info"
    assert entry["parts"] == 3
    assert entry["logger"] == "discord_relay.test"


def test_secrets_are_redacted_wherever_they_appear(stream: io.StringIO) -> None:
    log = logging.getLogger("discord_relay.test")
    log.warning("posting to %s", URL + "?wait=true")
    log.info("x", extra={"body": {"nested": ["TOKEN-abc"]}})
    log.info("auth %s", 'bearer-"quoted"-token')
    try:
        raise RuntimeError(f"failed {URL}")
    except RuntimeError:
        log.exception("boom")
    # httpx names the URL of every request it makes: its logger goes through the same handler.
    logging.getLogger("httpx").warning("HTTP Request: POST %s", httpx.URL(URL))
    text = stream.getvalue()
    assert "TOKEN-abc" not in text
    assert "quoted" not in text
    assert text.count(REDACTED) >= 5
    assert len(lines(stream)) == 5


def test_configuring_twice_keeps_one_handler(stream: io.StringIO) -> None:
    configure_logging(SECRETS, "INFO", stream=stream)
    logging.getLogger("discord_relay.test").info("once")
    assert len(lines(stream)) == 1


async def test_log_sink_messages_are_written_at_any_log_level(
    make_settings: Callable[..., Any],
    relay_client: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In log sink mode the message is the relay's output: a quiet log level must not lose it
    # while the sender is told "delivered".
    settings = make_settings(RELAY_LOG_LEVEL="WARNING", RELAY_AUTH_TOKEN="TOKEN-abc")
    payload = webhook_payload([webhook_alert("QuietLevel", annotations={"summary": "TOKEN-abc"})])
    async with relay_client(settings) as client:
        response = await client.post(
            "/alertmanager", json=payload, headers={"Authorization": "Bearer TOKEN-abc"}
        )
    assert response.json()["sent"] == 1
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "notification delivered" not in [entry["message"] for entry in entries], "WARNING"
    [sink] = [entry for entry in entries if "discord_message" in entry]
    [embed] = sink["discord_message"]["embeds"]
    assert embed["title"] == "[FIRING] QuietLevel"
    assert embed["description"] == REDACTED, "still through the redacting handler"
