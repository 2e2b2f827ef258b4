"""The seven seed alerts, as SLOAlerts in manifests/slo, behave as the seeds meant, in promtool.

Each case feeds synthetic series (with the exporters' real metric names) in which the seed's
condition starts to hold at a known minute, and checks that the generated alert is quiet one
evaluation before its `for` has passed and fires, with the right labels, when it has. The
alertname, `for` and severity each seed means are written here, not read from the generated
rule, so a manifest that drifts from the seed fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sloalert import exporters
from sloalert.generator import generate
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool
from testkit.slo_traffic import (
    LatencyPhase,
    Phase,
    fastapi_requests,
    histogram,
    steps,
)

pytestmark = pytest.mark.integration

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests" / "slo"
NODE = {"job": "node", "instance": "node-1:9100"}


# The tier label each severity goes with (threshold alerts: page is critical, ticket warning).
TIER_OF_SEVERITY = {"critical": "page", "warning": "ticket"}


@dataclass(frozen=True)
class Seed:
    file: str
    alert: str  # the seed's alertname
    hold: int  # the seed's `for`, in minutes
    severity: str  # the seed's severity label
    series: list[dict[str, str]]
    holds_from: int  # the first minute at which the alert's condition is true
    series_labels: dict[str, str] = field(default_factory=dict)  # what the expr keeps


def _django_responses(status: str, values: str) -> dict[str, str]:
    labels = {"job": "django", "view": "restaurant-list", "method": "GET", "status": status}
    return promtool.series(exporters.DJANGO_RESPONSES.name, labels, values)


SEEDS = {
    "target down for 2m pages": Seed(
        "seed-target-down.yaml",
        alert="ScrapeTargetDown",
        hold=2,
        severity="critical",
        series=[
            promtool.series(
                "up", {"job": "fastapi", "instance": "fastapi-0:8000"}, steps((11, 1), (20, 0))
            )
        ],
        holds_from=11,
        series_labels={"job": "fastapi", "instance": "fastapi-0:8000"},
    ),
    "a 5xx ratio over 1% across both apps for 2m": Seed(
        "seed-5xx-ratio.yaml",
        alert="High5xxErrorRate",
        hold=2,
        severity="warning",
        series=[
            *fastapi_requests("fastapi", [Phase(10, 1.0), Phase(20, 1.0, 0.5)]),
            _django_responses("200", promtool.counter((30, 60.0))),
        ],
        holds_from=11,
    ),
    "over 0.5 5xx a second for 2m": Seed(
        "seed-5xx-rate.yaml",
        alert="High5xxAbsoluteRPS",
        hold=2,
        severity="warning",
        series=[
            *fastapi_requests("fastapi", [Phase(30, 0.2)]),
            _django_responses("200", promtool.counter((30, 60.0))),
            _django_responses("500", promtool.counter((10, 0.0), (20, 60.0))),
        ],
        holds_from=13,
    ),
    "FastAPI p95 over 0.5s for 3m": Seed(
        "seed-fastapi-p95.yaml",
        alert="FastAPIP95LatencyHigh",
        hold=3,
        severity="warning",
        series=histogram(
            exporters.FASTAPI_LATENCY.bucket,
            {"job": "fastapi", "handler": "/menu", "method": "GET"},
            exporters.FASTAPI_LATENCY.buckets,
            [LatencyPhase(10, 1.0, 0.08), LatencyPhase(20, 1.0, 1.2)],
        ),
        holds_from=11,
    ),
    "Django DB p95 over 0.2s for 3m": Seed(
        "seed-django-db-p95.yaml",
        alert="DjangoDBP95High",
        hold=3,
        severity="warning",
        series=histogram(
            exporters.DJANGO_DB_LATENCY.bucket,
            {"job": "django", "alias": "default", "vendor": "sqlite"},
            exporters.DJANGO_DB_LATENCY.buckets,
            [LatencyPhase(10, 5.0, 0.004), LatencyPhase(20, 5.0, 0.3)],
        ),
        holds_from=11,
    ),
    "node CPU over 80% for 5m": Seed(
        "seed-node-cpu.yaml",
        alert="HighCPUUsage",
        hold=5,
        severity="warning",
        series=[
            promtool.series(
                exporters.NODE_CPU.name,
                {**NODE, "cpu": "0", "mode": "idle"},
                promtool.counter((10, 54.0), (30, 6.0)),
            )
        ],
        # rate() over 5m sees 4 intervals: idle falls below 20% once all 4 are busy ones
        holds_from=14,
        series_labels={"instance": NODE["instance"]},
    ),
    "node memory under 10% available for 5m": Seed(
        "seed-node-memory.yaml",
        alert="LowMemory",
        hold=5,
        severity="warning",
        series=[
            promtool.series(exporters.NODE_MEMORY_TOTAL.name, NODE, steps((40, 8e9))),
            promtool.series(
                exporters.NODE_MEMORY_AVAILABLE.name, NODE, steps((11, 4e9), (29, 0.5e9))
            ),
        ],
        holds_from=11,
        series_labels=NODE,
    ),
}


def _resource(file: str) -> dict[str, Any]:
    return yaml.safe_load((MANIFESTS / file).read_text())


def _alert_rule(rules: dict[str, Any]) -> dict[str, Any]:
    [rule] = [
        r
        for g in rules["groups"]
        for r in g["rules"]
        if not r.get("alert", "NoData").endswith("NoData")
    ]
    return rule


def _firing_labels(seed: Seed, resource: dict[str, Any]) -> dict[str, str]:
    """The labels the seed's alert should fire with: the series' own, the seed's severity, and
    the identity of the SLOAlert it now comes from."""
    service = resource["spec"]["service"]
    return {
        **seed.series_labels,
        "severity": seed.severity,
        "service": service,
        "sloalert_slo": resource["metadata"]["name"],
        "sloalert_service": service,
        "sloalert_tier": TIER_OF_SEVERITY[seed.severity],
    }


@pytest.mark.parametrize("seed", SEEDS.values(), ids=SEEDS.keys())
def test_each_seed_alert_fires_when_its_condition_holds_for_its_for_and_not_before(
    seed: Seed, tmp_path: Path
) -> None:
    resource = _resource(seed.file)
    rules = promtool.without_annotations(rule_file([generate(load(resource))]))
    condition = f"count({_alert_rule(rules)['expr']})"
    result = promtool.run_rule_tests(
        promtool.promtool(),
        rules,
        [
            {
                "interval": "1m",
                "input_series": seed.series,
                "promql_expr_test": [
                    promtool.expr_test(condition, f"{seed.holds_from - 1}m"),
                    promtool.expr_test(
                        condition, f"{seed.holds_from}m", [{"labels": "{}", "value": 1}]
                    ),
                ],
                "alert_rule_test": [
                    promtool.alert_test(f"{seed.holds_from + seed.hold - 1}m", seed.alert),
                    promtool.alert_test(
                        f"{seed.holds_from + seed.hold}m",
                        seed.alert,
                        [{"exp_labels": _firing_labels(seed, resource)}],
                    ),
                ],
            }
        ],
        tmp_path,
    )
    assert result.passed, result.output


def test_the_target_down_annotations_render_with_the_target_named(tmp_path: Path) -> None:
    seed = SEEDS["target down for 2m pages"]
    resource = _resource(seed.file)
    rules = rule_file([generate(load(resource))])
    result = promtool.run_rule_tests(
        promtool.promtool(),
        rules,
        [
            {
                "interval": "1m",
                "input_series": seed.series,
                "alert_rule_test": [
                    promtool.alert_test(
                        "13m",
                        seed.alert,
                        [
                            {
                                "exp_labels": _firing_labels(seed, resource),
                                "exp_annotations": {
                                    "summary": "Target down: fastapi (fastapi-0:8000)",
                                    "description": "fastapi-0:8000 of job fastapi has been "
                                    "down for more than 2m.",
                                },
                            }
                        ],
                    )
                ],
            }
        ],
        tmp_path,
    )
    assert result.passed, result.output


def test_a_fresh_idle_install_raises_no_alert_at_all(tmp_path: Path) -> None:
    # Every shipped SLOAlert, against a stack whose targets are up but that has served nothing
    # (no request, no database query: DjangoDBP95High's histogram does not exist yet). Series
    # that never existed are SeriesFound's business: no no-data alert, pending or firing.
    resources = [_resource(path.name) for path in sorted(MANIFESTS.glob("*.yaml"))]
    rules = promtool.without_annotations(rule_file(generate(load(r)) for r in resources))
    up = [
        {"series": f'up{{job="{job}",instance="{job}-0"}}', "values": "1x120"}
        for job in ("fastapi", "django", "node")
    ]
    result = promtool.run_rule_tests(
        promtool.promtool(),
        rules,
        [
            {
                "interval": "1m",
                "input_series": up,
                "promql_expr_test": [
                    promtool.expr_test("ALERTS", f"{minute}m") for minute in (5, 15, 30, 60, 120)
                ],
            }
        ],
        tmp_path,
    )
    assert result.passed, result.output
