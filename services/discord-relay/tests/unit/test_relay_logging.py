"""The relay's logs never carry the webhook URL, its token, or the bearer token.

The line's shape and the redaction mechanism are fdc_logging's (libs/fdc-logging/tests); here,
what the relay hands it: its secrets, its HTTP client's request lines, its log sink.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import fdc_logging
import pytest
import yarl
from fdc_logging import REDACTED
from testkit.alertmanager import webhook_alert, webhook_payload
from testkit.logs import json_lines, with_field

URL = "https://discord.com/api/webhooks/123/TOKEN-abc"
SECRETS = [URL, "TOKEN-abc", 'bearer-"quoted"-token']


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    fdc_logging.configure("DEBUG", secrets=SECRETS, stream=out)
    yield out
    fdc_logging.configure("WARNING")


def test_secrets_are_redacted_wherever_they_appear(stream: io.StringIO) -> None:
    log = logging.getLogger("discord_relay.test")
    log.warning("posting to %s", URL + "?wait=true")
    log.info("x", extra={"body": {"nested": ["TOKEN-abc"]}})
    log.info("auth %s", 'bearer-"quoted"-token')
    try:
        raise RuntimeError(f"failed {URL}")
    except RuntimeError:
        log.exception("boom")
    # aiohttp's client may name the URL it failed on: its logger goes through the same handler.
    logging.getLogger("aiohttp.client").warning("POST %s failed", yarl.URL(URL))
    text = stream.getvalue()
    assert "TOKEN-abc" not in text
    assert "quoted" not in text
    assert text.count(REDACTED) >= 5
    assert len(json_lines(text)) == 5


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
    entries = json_lines(capsys.readouterr().out)
    assert "notification delivered" not in [entry["message"] for entry in entries], "WARNING"
    [sink] = with_field(entries, "discord_message")
    [embed] = sink["embeds"]
    assert embed["title"] == "[FIRING] QuietLevel"
    assert embed["description"] == REDACTED, "still through the redacting handler"
