"""The SLOAlerts the umbrella ships, on the cluster: Ready and Selected, their PrometheusRules
present and loaded by Prometheus, every target up, and a deleted SLOAlert's rule collected by
Kubernetes' own garbage collector."""

from __future__ import annotations

import json

import httpx
import yaml
from sloalert import conventions
from testkit import stack_config
from testkit.kube import unique_name, wait_for

from .cluster import NAMESPACE, Cluster, condition


def _shipped_names() -> set[str]:
    return {stack_config.sloalert_name(path) for path in stack_config.shipped_sloalert_files()}


def test_the_shipped_sloalerts_are_ready_and_selected(cluster: Cluster) -> None:
    expected = _shipped_names()
    assert expected, "the umbrella ships no SLOAlert"

    def settled() -> dict[str, dict[str, str | None]] | None:
        states = {
            item["metadata"]["name"]: {
                name: condition(item, name) for name in ("Ready", "Selected")
            }
            for item in cluster.items("sloalerts")
        }
        ok = expected <= states.keys() and all(
            states[name] == {"Ready": "True", "Selected": "True"} for name in expected
        )
        return states if ok else None

    try:
        wait_for(settled, what="every shipped SLOAlert Ready and Selected", timeout=180)
    except TimeoutError:
        states = {
            item["metadata"]["name"]: item.get("status") for item in cluster.items("sloalerts")
        }
        raise AssertionError(json.dumps(states, indent=1)) from None


def test_each_sloalert_owns_a_prometheusrule(cluster: Cluster) -> None:
    owners = {
        reference["name"]
        for rule in cluster.items("prometheusrules")
        for reference in rule["metadata"].get("ownerReferences", [])
        if reference.get("kind") == "SLOAlert"
    }
    assert _shipped_names() <= owners


def test_prometheus_loaded_every_sloalerts_rules(cluster: Cluster, prometheus: str) -> None:
    expected = {
        conventions.GROUP_NAME.format(namespace=NAMESPACE, name=name) for name in _shipped_names()
    }

    def loaded() -> set[str] | None:
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).raise_for_status().json()
        names = {group["name"] for group in groups["data"]["groups"]}
        return names if expected <= names else None

    try:
        wait_for(loaded, what="Prometheus loading the SLOAlerts' rule groups", timeout=240)
    except TimeoutError:
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        missing = expected - {group["name"] for group in groups}
        raise AssertionError(f"rule groups Prometheus has not loaded: {sorted(missing)}") from None


def test_every_target_is_up(prometheus: str) -> None:
    def targets() -> list[dict]:
        response = httpx.get(f"{prometheus}/api/v1/targets", params={"state": "active"}, timeout=10)
        return response.raise_for_status().json()["data"]["activeTargets"]

    def all_up() -> list[dict] | None:
        active = targets()
        return active if active and all(t["health"] == "up" for t in active) else None

    try:
        active = wait_for(all_up, what="every Prometheus target up", timeout=240)
    except TimeoutError:
        down = [
            (t["labels"].get("job"), t["scrapeUrl"], t["health"], t.get("lastError"))
            for t in targets()
            if t["health"] != "up"
        ]
        raise AssertionError(f"targets not up: {down}") from None
    jobs = {target["labels"].get("job") for target in active}
    # The apps' series carry the job labels the SLO presets read (the charts' contract).
    assert {"fastapi", "django"} <= jobs, jobs


def test_deleting_an_sloalert_deletes_its_prometheusrule(cluster: Cluster) -> None:
    source = stack_config.shipped_sloalert_files()[0]
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    name = unique_name("e2e-gc")
    document["metadata"] = {"name": name, "namespace": NAMESPACE}
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(document))

    def owned_rules() -> list[str]:
        return [
            rule["metadata"]["name"]
            for rule in cluster.items("prometheusrules")
            if any(ref.get("name") == name for ref in rule["metadata"].get("ownerReferences", []))
        ]

    wait_for(owned_rules, what=f"the operator writing {name}'s PrometheusRule", timeout=120)
    cluster.kubectl("-n", NAMESPACE, "delete", "sloalert", name, "--wait=true")
    wait_for(
        lambda: not owned_rules(),
        what=f"the garbage collector deleting {name}'s PrometheusRule",
        timeout=120,
    )
