"""Every alert carries its SLOAlert's `namespace`, in the real promtool, and series that differ
only by their own `namespace` still alert apart: theirs moves to `exported_namespace`.

Without the move Prometheus refuses the whole rule ("vector contains metrics with the same
labelset after applying alert labels"), so the alert never fires for any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sloalert import conventions
from sloalert.generator import generate
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool
from testkit.slo_traffic import steps

pytestmark = pytest.mark.integration

TENANTS = ("shop", "billing")


def _slo(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": conventions.API_VERSION,
        "kind": conventions.KIND,
        "metadata": {"name": name, "namespace": "platform"},
        "spec": {"service": "platform", **spec},
    }


def _alerts(alert: str, tier: str, extra: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "labels": promtool.labels_text(
                {
                    "__name__": "ALERTS",
                    "alertname": alert,
                    "alertstate": "firing",
                    "namespace": "platform",
                    conventions.EXPORTED_NAMESPACE_LABEL: tenant,
                    "service": "platform",
                    "severity": "critical",
                    "sloalert_namespace": "platform",
                    "sloalert_service": "platform",
                    "sloalert_slo": alert.lower(),
                    "sloalert_tier": tier,
                    **extra,
                }
            ),
            "value": 1,
        }
        for tenant in sorted(TENANTS)
    ]


def _run(tmp_path: Path, slo: dict[str, Any], series: list[dict[str, str]], test: Any):
    rules = promtool.without_annotations(rule_file([generate(load(slo))]))
    return promtool.run_rule_tests(
        promtool.promtool(),
        rules,
        [{"interval": "1m", "input_series": series, "promql_expr_test": [test]}],
        tmp_path,
    )


def test_targets_down_in_two_namespaces_alert_each_keeping_its_namespace(tmp_path: Path) -> None:
    slo = _slo(
        "targetdown2",
        {
            "indicator": {"preset": {"name": "target-down"}},
            "alerting": {"mode": "threshold", "name": "TargetDown2", "below": 1, "tier": "page"},
        },
    )
    labels = {"job": "web", "instance": "web-0:80"}
    series = [
        promtool.series("up", {**labels, "namespace": tenant}, steps((5, 1), (20, 0)))
        for tenant in TENANTS
    ]
    firing = 'ALERTS{alertname="TargetDown2",alertstate="firing"}'
    result = _run(
        tmp_path,
        slo,
        series,
        promtool.expr_test(firing, "15m", _alerts("TargetDown2", "page", labels)),
    )
    assert result.passed, result.output


def test_a_burn_rate_expression_summed_by_namespace_pages_per_namespace(tmp_path: Path) -> None:
    ratio = (
        'sum by (namespace) (rate(requests_total{code="500"}[$window]))\n/\n'
        "sum by (namespace) (rate(requests_total[$window]))"
    )
    slo = _slo(
        "pernamespace",
        {
            "indicator": {"expression": ratio},
            "objective": 99.9,
            "alerting": {"name": "PerNamespace"},
        },
    )
    series = [
        promtool.series(
            "requests_total", {"namespace": tenant, "code": code}, promtool.counter((120, 60))
        )
        for tenant in TENANTS
        for code in ("200", "500")
    ]
    firing = 'ALERTS{alertname="PerNamespace",alertstate="firing",sloalert_tier="page"}'
    result = _run(
        tmp_path,
        slo,
        series,
        promtool.expr_test(firing, "60m", _alerts("PerNamespace", "page", {})),
    )
    assert result.passed, result.output
