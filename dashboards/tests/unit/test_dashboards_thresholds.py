"""The thresholds the panels draw are the alerts' own: the Grafana-managed alerts the umbrella
provisions and the seed's threshold SLOAlerts."""

from __future__ import annotations

import yaml
from fdc_dashboards import alerts
from sloalert.validation import load
from testkit import stack_config
from testkit.tools import REPO_ROOT


def _grafana_threshold(title: str) -> float:
    [rule] = [
        rule
        for group in stack_config.grafana_rule_groups()
        for rule in group["rules"]
        if rule["title"] == title
    ]
    [condition] = [data for data in rule["data"] if data["refId"] == rule["condition"]]
    [evaluator] = [c["evaluator"] for c in condition["model"]["conditions"]]
    assert evaluator["type"] == "gt"
    return evaluator["params"][0]


def _slo_alerting(name: str) -> dict:
    path = REPO_ROOT / "manifests" / "slo" / f"seed-{name}.yaml"
    return load(yaml.safe_load(path.read_text())).spec.alerting.model_dump()


def test_the_error_ratio_and_latency_lines_are_the_grafana_alerts_thresholds() -> None:
    assert _grafana_threshold("High 5xx Error Rate") == alerts.ERROR_RATIO
    assert _grafana_threshold("FastAPI p95 > 1.5s") == alerts.FASTAPI_P95_SECONDS


def test_the_node_lines_are_the_seed_slos_thresholds() -> None:
    assert _slo_alerting("node-cpu")["above"] == alerts.CPU_BUSY
    assert _slo_alerting("node-memory")["below"] == alerts.MEMORY_AVAILABLE
