"""Grafana, through a port-forward and logged in with the password the install generated, shows
what fdc-stack provisions: the dashboards, the Prometheus datasource, the contact point, the
notification policy and the two Grafana-managed alert rules (as the chart's files define them)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from testkit import stack_config
from testkit.kube import wait_for
from testkit.tools import REPO_ROOT

DASHBOARDS_DIR = REPO_ROOT / "charts" / "fdc-stack" / "dashboards"


def _client(grafana: tuple[str, tuple[str, str]]) -> httpx.Client:
    url, login = grafana
    return httpx.Client(base_url=url, auth=login, timeout=10)


def _eventually(client: httpx.Client, path: str, check: Any, what: str) -> Any:
    """GET `path` until `check(json)` holds: the sidecars provision a little after start-up."""
    return wait_for(
        lambda: body if check(body := client.get(path).raise_for_status().json()) else None,
        what=what,
        timeout=180,
    )


def test_grafana_shows_the_provisioned_dashboards(grafana: tuple[str, tuple[str, str]]) -> None:
    expected = {
        json.loads(path.read_text(encoding="utf-8"))["uid"]
        for path in sorted(DASHBOARDS_DIR.glob("*.json"))
    }
    assert expected, f"no dashboards in {DASHBOARDS_DIR}"
    with _client(grafana) as client:
        _eventually(
            client,
            "/api/search?type=dash-db",
            lambda found: expected <= {item["uid"] for item in found},
            "Grafana listing every dashboard of charts/fdc-stack/dashboards",
        )


def test_grafana_has_the_prometheus_datasource_every_rule_uses(
    grafana: tuple[str, tuple[str, str]],
) -> None:
    used = {query.datasource_uid for query in stack_config.grafana_alert_queries()}
    with _client(grafana) as client:
        sources = client.get("/api/datasources").raise_for_status().json()
    by_uid = {source["uid"]: source["type"] for source in sources}
    assert used and used <= by_uid.keys(), (used, by_uid)
    assert {by_uid[uid] for uid in used} == {"prometheus"}


def test_grafana_has_the_contact_point_and_policy(grafana: tuple[str, tuple[str, str]]) -> None:
    names = {point["name"] for point in stack_config.grafana_contact_points()}
    receiver = stack_config.grafana_policies()[0]["receiver"]
    with _client(grafana) as client:
        _eventually(
            client,
            "/api/v1/provisioning/contact-points",
            lambda points: names <= {point["name"] for point in points},
            f"Grafana's contact points including {sorted(names)}",
        )
        policy = client.get("/api/v1/provisioning/policies").raise_for_status().json()
    assert policy["receiver"] == receiver


def test_grafana_has_both_alert_rules(grafana: tuple[str, tuple[str, str]]) -> None:
    expected = {
        rule["uid"]: rule["title"]
        for group in stack_config.grafana_rule_groups()
        for rule in group["rules"]
    }
    assert len(expected) == 2, expected
    with _client(grafana) as client:
        rules = _eventually(
            client,
            "/api/v1/provisioning/alert-rules",
            lambda found: expected.keys() <= {rule["uid"] for rule in found},
            "Grafana's provisioned alert rules",
        )
    assert {rule["uid"]: rule["title"] for rule in rules if rule["uid"] in expected} == expected
