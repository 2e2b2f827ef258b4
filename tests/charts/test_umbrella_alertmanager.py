"""The Alertmanager configuration the umbrella gives kube-prometheus-stack, checked by the real
amtool and run in a real Alertmanager that posts to a real relay (its bearer token checked),
which posts to the Discord STAND-IN (testkit.discord). Only addresses and file paths are
changed for loopback: the relay's Service name mapped to its address
(`fdc_local.rendered.map_service_urls`), the token seen where kube-prometheus-stack mounts it."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fdc_local.rendered import map_service_urls
from testkit import stack_config
from testkit.alertmanager import RunningAlertmanager, alert, run_alertmanager
from testkit.discord import Standin, message_text, run_discord_standin, run_relay
from testkit.processes import RunningServer
from testkit.prometheus import target_of
from testkit.tools import require_tool

SLO = {"sloalert_slo": "fastapi-availability", "sloalert_namespace": "monitoring"}
PAGE = {**SLO, "sloalert_tier": "page", "severity": "critical", "service": "fastapi"}
TICKET = {**SLO, "sloalert_tier": "ticket", "severity": "warning", "service": "fastapi"}
OTHER_TICKET = {**TICKET, "sloalert_slo": "django-availability", "service": "django"}
ALERTNAME = "FastapiAvailability"


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(require_tool("amtool")), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_config_passes_amtool_check_config(tmp_path: Path) -> None:
    result = _amtool("check-config", str(_write(tmp_path / "am.yml", _shipped())))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _shipped() -> dict[str, Any]:
    return stack_config.alertmanager_config()


def test_amtool_refuses_the_list_replacement_trap(tmp_path: Path) -> None:
    """The check can fail: receivers overridden without kps' `null` break the Watchdog route."""
    config = _shipped()
    config["receivers"] = [r for r in config["receivers"] if r["name"] != "null"]
    result = _amtool("check-config", str(_write(tmp_path / "am.yml", config)))
    assert result.returncode != 0
    assert "null" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"alertname": "Watchdog"}, "null"),
        ({"alertname": "InfoInhibitor"}, "null"),
        ({"alertname": ALERTNAME, **PAGE}, stack_config.RELAY_FULLNAME),
        ({"alertname": ALERTNAME, **TICKET}, stack_config.RELAY_FULLNAME),
        ({"alertname": "KubePodCrashLooping", "severity": "warning"}, stack_config.RELAY_FULLNAME),
    ],
    ids=["watchdog", "info-inhibitor", "page", "ticket", "kps-alert"],
)
def test_routes(tmp_path: Path, labels: dict[str, str], receiver: str) -> None:
    config = _write(tmp_path / "am.yml", _shipped())
    pairs = [f"{key}={value}" for key, value in labels.items()]
    result = _amtool("config", "routes", "test", f"--config.file={config}", *pairs)
    assert result.stdout.strip() == receiver, result.stdout + result.stderr


def test_routing_as_the_issue_asks() -> None:
    route = _shipped()["route"]
    assert route["group_by"] == ["alertname", "sloalert_slo"]
    [page] = [r for r in route["routes"] if r["matchers"] == ['sloalert_tier = "page"']]
    assert _seconds(page["group_wait"]) < _seconds(route["group_wait"])
    [receiver] = [r for r in _shipped()["receivers"] if r["name"] == stack_config.RELAY_FULLNAME]
    [webhook] = receiver["webhook_configs"]
    assert webhook["url"] == f"{stack_config.IN_CLUSTER_RELAY_URL}/alertmanager"
    assert webhook["send_resolved"] is True
    auth = webhook["http_config"]["authorization"]
    assert auth == {"type": "Bearer", "credentials_file": stack_config.relay_token_file()}


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(duration[:-1]) * units[duration[-1]]


@dataclass
class Installed:
    alertmanager: RunningAlertmanager
    relay: RunningServer
    standin: Standin
    token: str

    def alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.alertmanager.base_url}/api/v2/alerts", timeout=10)
        return response.raise_for_status().json()

    def wait_for_three_alerts(self, timeout: float = 10) -> dict[tuple[str, str], Any]:
        """The posted alerts by (SLO, tier), once Alertmanager has all three."""
        deadline = time.monotonic() + timeout
        while True:
            alerts = self.alerts()
            if len(alerts) == 3 or time.monotonic() > deadline:
                return {
                    (a["labels"]["sloalert_slo"], a["labels"]["sloalert_tier"]): a for a in alerts
                }
            time.sleep(0.1)

    def relay_answered(self, code: int) -> float:
        needle = f'discord_relay_notifications_total{{code="{code}",source="alertmanager"}} '
        for line in httpx.get(f"{self.relay.base_url}/metrics").text.splitlines():
            if line.startswith(needle):
                return float(line.removeprefix(needle))
        return 0.0


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Installed]:
    """Alertmanager with the shipped config, the relay behind it, the stand-in behind that."""
    token = secrets.token_urlsafe(24)
    etc = tmp_path / "etc"  # laid over /etc in Alertmanager's own mount namespace
    token_file = etc / Path(stack_config.relay_token_file()).relative_to("/etc")
    token_file.parent.mkdir(parents=True)
    token_file.write_text(token)
    (etc / "alertmanager" / "config").mkdir()
    with run_discord_standin(tmp_path) as standin:
        relay_env = {
            "DISCORD_WEBHOOK_URL": standin.webhook_url(),
            "RELAY_AUTH_TOKEN_FILE": str(token_file),
            # A short budget: Discord failing turns into a quick 503 and Alertmanager's retry.
            "RELAY_DELIVERY_BUDGET_SECONDS": "1",
            "RELAY_MAX_ATTEMPTS": "2",
            "RELAY_BACKOFF_BASE_SECONDS": "0.1",
        }
        with run_relay(tmp_path, relay_env) as relay:
            relay_service = f"{stack_config.RELAY_FULLNAME}:{stack_config.RELAY_PORT}"
            config = map_service_urls(_shipped(), {relay_service: target_of(relay)})
            check = _amtool("check-config", str(_write(tmp_path / "local.yml", config)))
            assert check.returncode == 0, check.stdout + check.stderr
            with run_alertmanager(tmp_path, config, overlays={"/etc": etc}) as alertmanager:
                yield Installed(alertmanager, relay, standin, token)


@pytest.mark.integration
def test_a_page_reaches_discord_through_the_token_checking_relay_and_inhibits_its_ticket(
    installed: Installed,
) -> None:
    # Discord fails at first: the relay answers 503 and Alertmanager must try again.
    installed.standin.set_mode("500", count=3)
    started = time.monotonic()
    installed.alertmanager.post_alerts(
        [
            alert(ALERTNAME, labels=PAGE, annotations={"summary": "burning fast"}),
            alert(ALERTNAME, labels=TICKET),
            alert("DjangoAvailability", labels=OTHER_TICKET),
        ]
    )
    by_tier = installed.wait_for_three_alerts()
    page = by_tier[("fastapi-availability", "page")]
    ticket = by_tier[("fastapi-availability", "ticket")]
    other = by_tier[("django-availability", "ticket")]
    assert ticket["status"]["state"] == "suppressed"
    assert ticket["status"]["inhibitedBy"] == [page["fingerprint"]]
    assert other["status"]["state"] == "active", "a page inhibits only its own SLO's ticket"

    try:
        records = installed.standin.wait_for_accepted(
            lambda found: any(ALERTNAME in message_text(r) for r in found), timeout=60
        )
    except TimeoutError as exc:
        raise AssertionError(
            f"the page never reached the stand-in.\nrelay log:\n{installed.relay.log()[-3000:]}"
            f"\nalertmanager log:\n{installed.alertmanager.log()[-3000:]}"
        ) from exc
    print(f"page delivered {time.monotonic() - started:.1f}s after it was posted")
    [message] = [r for r in records if ALERTNAME in message_text(r)]
    assert "burning fast" in message_text(message)
    assert "ticket" not in message_text(message).lower()
    assert installed.relay_answered(503) >= 1, "Discord failed, yet the relay never said 503"
    assert installed.relay_answered(200) >= 1
    # The token Alertmanager sent is checked: without it, or with another, the relay refuses.
    url = f"{installed.relay.base_url}/alertmanager"
    assert httpx.post(url, json={}, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.post(url, json={}, headers=wrong, timeout=10).status_code == 401
    right = {"Authorization": f"Bearer {installed.token}"}
    assert httpx.post(url, json={}, headers=right, timeout=10).status_code == 422  # past auth
