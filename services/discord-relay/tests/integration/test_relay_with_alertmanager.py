"""A real Alertmanager routes to the relay (webhook_configs, bearer token from a file,
send_resolved), the relay posts to the Discord stand-in."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from testkit.alertmanager import RunningAlertmanager, alert, route_to, run_alertmanager
from testkit.discord import Standin, run_relay
from testkit.processes import RunningServer

pytestmark = pytest.mark.integration

TOKEN = "alertmanager-to-relay-token"


@dataclass
class Pipeline:
    alertmanager: RunningAlertmanager
    relay: RunningServer
    standin: Standin

    def titles(self) -> list[str]:
        return [
            embed["title"]
            for record in self.standin.accepted()
            for embed in record["body"].get("embeds", [])
        ]

    def wait_for_title(self, title: str, timeout: float = 60) -> None:
        try:
            self.standin.wait_for_accepted(lambda _: title in self.titles(), timeout)
        except TimeoutError as exc:
            raise AssertionError(
                f"{title!r} never reached the stand-in.\nrelay log:\n{self.relay.log()[-3000:]}\n"
                f"alertmanager log:\n{self.alertmanager.log()[-3000:]}"
            ) from exc

    def relay_answers(self, code: int) -> float:
        text = httpx.get(f"{self.relay.base_url}/metrics").text
        needle = f'discord_relay_notifications_total{{code="{code}",source="alertmanager"}} '
        for line in text.splitlines():
            if line.startswith(needle):
                return float(line.removeprefix(needle))
        return 0.0


@pytest.fixture
def pipeline(tmp_path: Path, standin: Standin) -> Iterator[Pipeline]:
    token_file = tmp_path / "relay-token"
    token_file.write_text(TOKEN)
    relay_env = {
        "DISCORD_WEBHOOK_URL": standin.webhook_url(),
        "RELAY_AUTH_TOKEN_FILE": str(token_file),
        # A short budget, so an outage turns into a quick 503 and Alertmanager's own retry.
        "RELAY_DELIVERY_BUDGET_SECONDS": "1",
        "RELAY_BACKOFF_BASE_SECONDS": "0.1",
    }
    with run_relay(tmp_path, relay_env) as relay:
        receiver: dict[str, Any] = {
            "name": "discord-relay",
            "webhook_configs": [
                {
                    "url": f"{relay.base_url}/alertmanager",
                    "send_resolved": True,
                    "http_config": {
                        "authorization": {"type": "Bearer", "credentials_file": str(token_file)}
                    },
                }
            ],
        }
        with run_alertmanager(tmp_path, route_to(receiver)) as alertmanager:
            yield Pipeline(alertmanager, relay, standin)


def test_a_posted_alert_arrives_firing_then_resolved_each_once(pipeline: Pipeline) -> None:
    labels = {"severity": "critical", "service": "fastapi"}
    annotations = {"summary": "FastAPI error budget burning", "runbook_url": "https://rb.example"}
    pipeline.alertmanager.post_alerts(
        [alert("CheckoutErrors", labels=labels, annotations=annotations)]
    )
    pipeline.wait_for_title("[FIRING] CheckoutErrors")
    pipeline.alertmanager.post_alerts(
        [alert("CheckoutErrors", labels=labels, annotations=annotations, resolved=True)]
    )
    pipeline.wait_for_title("[RESOLVED] CheckoutErrors")
    assert pipeline.titles() == ["[FIRING] CheckoutErrors", "[RESOLVED] CheckoutErrors"]
    firing = pipeline.standin.accepted()[0]["body"]["embeds"][0]
    assert firing["description"] == "FastAPI error budget burning"
    assert {"name": "Service", "value": "fastapi", "inline": True} in firing["fields"]
    resolved = pipeline.standin.accepted()[1]["body"]["embeds"][0]
    # When it started and how long it lasted, never the text of its last firing evaluation.
    assert re.fullmatch(
        r"Resolved\. Started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, lasted \d+ s\.",
        resolved["description"],
    ), resolved["description"]
    assert pipeline.relay_answers(200) == 2
    assert pipeline.relay_answers(401) == 0, "Alertmanager sent the bearer token from its file"


def test_crafted_labels_and_annotations_arrive_in_discord_as_inert_text(
    pipeline: Pipeline,
) -> None:
    planted = "[Approve rollback](https://evil.example/x)"
    runbook = f"https://runbooks.ok) {planted}"
    labels = {"severity": f"**critical** {planted}", "instance": "<@&123> ||hidden||"}
    dashboard = "https://grafana.example/d/slo_overview?var-slo=fastapi_availability"
    annotations = {
        "summary": f"# Rollback now\n{planted}",
        "description": f"See {dashboard}",
        "runbook_url": runbook,
    }
    pipeline.alertmanager.post_alerts([alert("Crafted", labels=labels, annotations=annotations)])
    pipeline.wait_for_title("[FIRING] Crafted")
    [record] = pipeline.standin.accepted()
    [embed] = record["body"]["embeds"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    texts = [record["body"]["content"], embed["description"], *fields.values()]
    # A "[" that is not escaped only ever opens the relay's own link to the alert's source.
    opened = [name for text in texts for name in re.findall(r"(?<!\\)\[([^\]]*)\]\(", text)]
    assert opened == ["Source"], texts
    assert fields["Links"].endswith(
        r"Runbook: https://runbooks.ok) \[Approve rollback\](https://evil.example/x)"
    )
    assert embed["description"].startswith("\\# Rollback now\n\\[Approve rollback\\]")
    # A bare URL stays as typed, so Discord's own link to it still works.
    assert embed["description"].endswith(f"\n\nSee {dashboard}")
    assert fields["Severity"] == r"\*\*critical\*\* \[Approve rollback\](https://evil.example/x)"
    assert fields["Instance"] == r"<\@&123> \|\|hidden\|\|"
    assert record["body"]["allowed_mentions"] == {"parse": []}


def test_during_an_outage_alertmanager_retries_until_it_is_delivered_once(
    pipeline: Pipeline,
) -> None:
    with pipeline.standin.down():
        pipeline.alertmanager.post_alerts([alert("DatabaseDown", labels={"severity": "page"})])
        deadline = time.monotonic() + 60
        # The relay answers 503 (Discord unreachable) at least twice: Alertmanager retried.
        while pipeline.relay_answers(503) < 2:
            assert time.monotonic() < deadline, pipeline.relay.log()[-3000:]
            time.sleep(0.2)
    pipeline.wait_for_title("[FIRING] DatabaseDown")
    assert pipeline.titles() == ["[FIRING] DatabaseDown"]
    assert pipeline.relay_answers(200) == 1
