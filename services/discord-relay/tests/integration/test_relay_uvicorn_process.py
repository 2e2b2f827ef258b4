"""The relay as deployed: `uvicorn discord_relay.app:app` in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from testkit.alertmanager import webhook_alert, webhook_payload
from testkit.discord import Standin, run_relay
from testkit.logs import json_lines, with_field
from testkit.processes import LOOPBACK, free_port

pytestmark = pytest.mark.integration


def test_without_a_webhook_it_runs_in_log_sink_mode_and_says_so(tmp_path: Path) -> None:
    with run_relay(tmp_path, {}) as relay:
        ready = httpx.get(f"{relay.base_url}/readyz").json()
        assert ready["sink"] == "log"
        payload = webhook_payload([webhook_alert("DiskFull", labels={"severity": "critical"})])
        response = httpx.post(f"{relay.base_url}/alertmanager", json=payload)
        assert response.status_code == 200
        refused = httpx.post(f"{relay.base_url}/grafana", content=b"x")
        assert refused.status_code == 415
        log = relay.log()
    lines = json_lines(log)  # every line of output is one JSON object of the shared shape
    [start] = [line for line in lines if "log sink mode" in line["message"]]
    assert start["level"] == "warning"
    [message] = with_field(lines, "discord_message")
    assert message["embeds"][0]["title"] == "[FIRING] DiskFull"
    [refusal] = [line for line in lines if line["message"] == "notification refused"]
    assert (refusal["fields"]["status"], refusal["fields"]["path"]) == (415, "/grafana")
    assert not [line for line in lines if line["logger"] == "uvicorn.access"], "probes stay quiet"


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "discord_relay"],
        ["-m", "uvicorn", "discord_relay.app:app", "--host", LOOPBACK, "--port", "{port}"],
    ],
    ids=["python -m discord_relay", "uvicorn discord_relay.app:app"],
)
def test_a_malformed_webhook_url_stops_start_up_with_a_clear_message(command: list[str]) -> None:
    port = str(free_port())
    result = subprocess.run(
        [sys.executable, *(part.replace("{port}", port) for part in command)],
        env={
            "PATH": "/usr/bin:/bin",
            "RELAY_PORT": port,
            "DISCORD_WEBHOOK_URL": "https://discord.com/oops/leaky-token",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "/api/webhooks/<id>/<token>" in output
    assert "leaky-token" not in output


def test_without_a_token_the_process_refuses_to_start_saying_how_to_fix_it() -> None:
    port = str(free_port())
    result = subprocess.run(
        [sys.executable, "-m", "discord_relay"],
        env={"PATH": "/usr/bin:/bin", "RELAY_HOST": LOOPBACK, "RELAY_PORT": port},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "no bearer token" in result.stdout + result.stderr
    assert "RELAY_ALLOW_UNAUTHENTICATED=true" in result.stdout + result.stderr


def test_posting_to_discord_through_the_process_keeps_secrets_out_of_its_log(
    tmp_path: Path, standin: Standin
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("process-secret-token\n")
    env = {
        "DISCORD_WEBHOOK_URL": standin.webhook_url(token="process-webhook-token"),
        "RELAY_AUTH_TOKEN_FILE": str(token_file),
        "RELAY_BACKOFF_BASE_SECONDS": "0.05",
        "RELAY_LOG_LEVEL": "DEBUG",
    }
    standin.set_mode("500", count=1)
    with run_relay(tmp_path, env) as relay:
        assert httpx.get(f"{relay.base_url}/readyz").json()["sink"] == "discord"
        response = httpx.post(
            f"{relay.base_url}/grafana",
            json=webhook_payload([webhook_alert("X")]),
            headers={"Authorization": "Bearer process-secret-token"},
        )
        assert response.status_code == 200
        metrics = httpx.get(f"{relay.base_url}/metrics").text
        log = relay.log()
    assert "discord_relay_discord_retries_total 1.0" in metrics
    assert len(standin.accepted()) == 1
    assert "discord request failed" in log
    assert "process-webhook-token" not in log
    assert "process-secret-token" not in log
