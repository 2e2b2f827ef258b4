"""Issue 24, finding 1: a tenant's crafted alerts cannot silence another namespace's alerts.

The umbrella's real Alertmanager configuration (kube-prometheus-stack's inhibit rules kept) runs
in a real Alertmanager. Only the relay receiver's address and token file are pointed at loopback
and tmp_path (no notification is sent anywhere that matters: inhibition is what is checked, and
Alertmanager computes it from the routes and inhibit rules, which stay as shipped).

The three crafted alerts are the finding's: `KubePodCrashLooping` with `severity: critical`,
`InfoInhibitor`, and `FastapiAvailability` with `severity: critical` (and the shipped page's
labels). With the label the operator writes on every alert, `namespace: <the SLOAlert's
namespace>`, they inhibit nothing outside their own namespace; carrying the victims' namespace
(what the operator now refuses), they silence them: that reproduction shows the rules are live.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit import stack_config
from testkit.alertmanager import RunningAlertmanager, alert, run_alertmanager
from testkit.kube import wait_for

ATTACKER = "team-b"
CRAFTED_NAMES = ("KubePodCrashLooping", "InfoInhibitor", "FastapiAvailability")
SHIPPED_SLO = {
    "sloalert_slo": "fastapi-availability",
    "sloalert_namespace": "monitoring",
    "sloalert_tier": "ticket",
    "service": "fastapi",
}
# Another team's alerts, and the shipped FastapiAvailability ticket: what must stay active.
VICTIMS = {
    "KubePodCrashLooping": {"namespace": "payments", "severity": "warning", "pod": "api-0"},
    "KubeQuotaAlmostFull": {"namespace": "payments", "severity": "info", "resource": "cpu"},
    "FastapiAvailability": {"namespace": "monitoring", "severity": "warning", **SHIPPED_SLO},
}


def _crafted(namespace_of: dict[str, str]) -> list[dict[str, Any]]:
    """The finding's three SLOAlerts' alerts, each labelled `namespace` as `namespace_of` says
    (the operator's reserved labels carry the attacker's own namespace)."""
    own = {"sloalert_namespace": ATTACKER}
    page = {"sloalert_slo": "fastapi-availability", "sloalert_tier": "page", **own}
    return [
        alert(
            "KubePodCrashLooping",
            labels={"severity": "critical", "namespace": namespace_of["KubePodCrashLooping"]},
        ),
        alert("InfoInhibitor", labels={"namespace": namespace_of["InfoInhibitor"], **own}),
        alert(
            "FastapiAvailability",
            labels={
                "severity": "critical",
                "namespace": namespace_of["FastapiAvailability"],
                **page,
            },
        ),
    ]


def _config(tmp_path: Path) -> dict[str, Any]:
    """The shipped configuration; only the relay receiver's address and token file changed."""
    config = copy.deepcopy(stack_config.alertmanager_config())
    token = tmp_path / "token"
    token.write_text("not-used", encoding="utf-8")
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = "http://127.0.0.1:9/alertmanager"  # discard port: nothing listens
            webhook["http_config"]["authorization"]["credentials_file"] = str(token)
    config["templates"] = []
    return config


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[RunningAlertmanager]:
    with run_alertmanager(tmp_path, _config(tmp_path)) as running:
        yield running


def _states(alertmanager: RunningAlertmanager) -> dict[str, str]:
    states = {}
    for name, labels in VICTIMS.items():
        [held] = [
            a for a in alertmanager.alerts(alertname=name) if labels.items() <= a["labels"].items()
        ]
        states[name] = held["status"]["state"]
    return states


def _post_victims_then(alertmanager: RunningAlertmanager, crafted: list[dict[str, Any]]) -> None:
    victims = [alert(name, labels=labels) for name, labels in VICTIMS.items()]
    alertmanager.post_alerts(victims)
    wait_for(lambda: len(alertmanager.alerts()) == len(victims), what="the victims held")
    alertmanager.post_alerts(crafted)
    total = len(victims) + len(crafted)
    wait_for(lambda: len(alertmanager.alerts()) == total, what="every alert held")


@pytest.mark.integration
def test_reproduction_alerts_carrying_the_victims_namespace_silence_them(
    alertmanager: RunningAlertmanager,
) -> None:
    """What the finding saw, possible only if a tenant could choose `namespace`: the inhibit
    rules are live in this Alertmanager, so the next test can fail."""
    victims_namespaces = dict(
        zip(CRAFTED_NAMES, ("payments", "payments", "monitoring"), strict=True)
    )
    _post_victims_then(alertmanager, _crafted(victims_namespaces))
    suppressed = dict.fromkeys(VICTIMS, "suppressed")
    assert wait_for(
        lambda: _states(alertmanager) == suppressed, what="the victims suppressed", timeout=20
    )


@pytest.mark.integration
def test_crafted_alerts_in_their_own_namespace_suppress_nothing_elsewhere(
    alertmanager: RunningAlertmanager,
) -> None:
    own_namespace = dict.fromkeys(CRAFTED_NAMES, ATTACKER)
    _post_victims_then(alertmanager, _crafted(own_namespace))
    # The inhibitor has seen the crafted sources once one of them is itself inhibited: the
    # attacker's InfoInhibitor is muted by the kps rule that silences every InfoInhibitor.
    wait_for(
        lambda: [
            a
            for a in alertmanager.alerts(alertname="InfoInhibitor")
            if a["status"]["state"] == "suppressed"
        ],
        what="the attacker's InfoInhibitor processed",
        timeout=20,
    )
    assert _states(alertmanager) == dict.fromkeys(VICTIMS, "active")


def test_every_inhibit_rule_a_tenant_can_trigger_is_scoped_by_namespace() -> None:
    """Any rule with source matchers (a tenant's alert can match them) names `namespace` in
    `equal`; the one without (kps's: every alert mutes InfoInhibitor) mutes only that name."""
    for rule in stack_config.alertmanager_config()["inhibit_rules"]:
        if rule.get("source_matchers"):
            assert "namespace" in rule.get("equal", []), rule
        else:
            assert rule["target_matchers"] == ["alertname = InfoInhibitor"], rule


@pytest.mark.integration
def test_a_grouped_slos_page_mutes_its_own_groups_ticket_only(
    alertmanager: RunningAlertmanager,
) -> None:
    """indicator.groupBy: each group pages and tickets on its own (sloalert_group), so the page
    of /orders silences the ticket of /orders and not that of /menu."""
    slo = {
        "namespace": "apps",
        "service": "fastapi",
        "sloalert_slo": "api-per-handler",
        "sloalert_namespace": "apps",
    }

    def ticket(group: str) -> dict[str, str]:
        return {**slo, "severity": "warning", "sloalert_tier": "ticket", "sloalert_group": group}

    tickets = [
        alert("ApiPerHandler", labels=ticket(g)) for g in ("handler=/orders", "handler=/menu")
    ]
    alertmanager.post_alerts(tickets)
    wait_for(lambda: len(alertmanager.alerts()) == 2, what="the tickets held")
    page = {**slo, "severity": "critical", "sloalert_tier": "page"}
    alertmanager.post_alerts(
        [alert("ApiPerHandler", labels={**page, "sloalert_group": "handler=/orders"})]
    )

    def states() -> dict[str, str]:
        held = alertmanager.alerts(alertname="ApiPerHandler", sloalert_tier="ticket")
        return {a["labels"]["sloalert_group"]: a["status"]["state"] for a in held}

    expected = {"handler=/orders": "suppressed", "handler=/menu": "active"}
    assert wait_for(lambda: states() == expected, what="only /orders' ticket muted", timeout=20)
