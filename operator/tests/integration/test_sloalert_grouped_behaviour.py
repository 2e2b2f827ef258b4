"""A grouped SLO (indicator.groupBy) in the real promtool: each group burns its own budget.

Three FastAPI handlers at 1 request a second each, sampled every minute, under one 99.9% SLO
grouped by handler. When one handler fails, it pages alone, naming itself in its labels, while
the other handlers stay quiet; a handler with too little traffic for minRate never pages; the
budget series are per handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sloalert import conventions, exporters
from sloalert.generator import generate
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool

pytestmark = pytest.mark.integration

HANDLERS = ("/menu", "/orders", "/health")
HEALTHY_MINUTES = 6 * 60
OUTAGE_MINUTES = 30
ALERT = "ApiPerHandler"


def _slo(alerting: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": conventions.API_VERSION,
        "kind": conventions.KIND,
        "metadata": {"name": "api-per-handler", "namespace": "apps"},
        "spec": {
            "service": "fastapi",
            "indicator": {
                "ratio": {
                    "errors": 'http_requests_total{job="fastapi",status="5xx"}',
                    "total": 'http_requests_total{job="fastapi"}',
                },
                "groupBy": ["handler"],
            },
            "objective": 99.9,
            **({"alerting": alerting} if alerting else {}),
        },
    }


def _handler(handler: str, per_minute: float, failing: bool) -> list[dict[str, str]]:
    """A handler's 2xx and 5xx counters: healthy for six hours, then all 5xx if `failing`."""
    labels = {"job": "fastapi", "handler": handler, "method": "GET"}
    good = promtool.counter(
        (HEALTHY_MINUTES, per_minute), (OUTAGE_MINUTES, 0 if failing else per_minute)
    )
    bad = promtool.counter((HEALTHY_MINUTES, 0), (OUTAGE_MINUTES, per_minute if failing else 0))
    name = exporters.FASTAPI_REQUESTS.name
    return [
        promtool.series(name, {**labels, "status": "2xx"}, good),
        promtool.series(name, {**labels, "status": "5xx"}, bad),
    ]


def _run(tmp_path: Path, rules: dict[str, Any], series: list[dict[str, str]], *tests: Any):
    return promtool.run_rule_tests(
        promtool.promtool(),
        rules,
        [{"interval": "1m", "input_series": series, "promql_expr_test": list(tests)}],
        tmp_path,
    )


def _page(handler: str) -> dict[str, Any]:
    labels = {
        "__name__": "ALERTS",
        "alertname": ALERT,
        "alertstate": "firing",
        "handler": handler,
        "namespace": "apps",
        "service": "fastapi",
        "severity": "critical",
        conventions.GROUP_LABEL: f"handler={handler}",
        "sloalert_namespace": "apps",
        "sloalert_service": "fastapi",
        "sloalert_slo": "api-per-handler",
        "sloalert_tier": "page",
    }
    return {"labels": promtool.labels_text(labels), "value": 1}


def test_one_failing_handler_pages_alone_naming_itself(tmp_path: Path) -> None:
    rules = rule_file([generate(load(_slo()))])
    series = [s for h in HANDLERS for s in _handler(h, 60, failing=h == "/orders")]
    pages = 'ALERTS{alertstate="firing",sloalert_tier="page"}'
    onset = HEALTHY_MINUTES
    result = _run(
        tmp_path,
        promtool.without_annotations(rules),
        series,
        promtool.expr_test(pages, f"{onset}m"),
        # 100% errors: the 1h/5m pair crosses 14.4x within two minutes, for /orders only.
        promtool.expr_test(pages, f"{onset + 3}m", [_page("/orders")]),
        promtool.expr_test(pages, f"{onset + 20}m", [_page("/orders")]),
        # The budget series are per handler: only /orders has spent any.
        promtool.expr_test(
            "count by (handler) (slo:error_budget_remaining:ratio < 1)",
            f"{onset + 20}m",
            [{"labels": '{handler="/orders"}', "value": 1}],
        ),
        promtool.expr_test(
            "count(slo:error_budget_remaining:ratio == 1)",
            f"{onset + 20}m",
            [{"labels": "{}", "value": len(HANDLERS) - 1}],
        ),
    )
    assert result.passed, result.output


def test_a_handler_below_min_rate_never_pages(tmp_path: Path) -> None:
    # /health gets one request a minute (1/60 per second), below minRate 0.1: it fails wholly
    # and stays quiet, while /orders at the same failure but 1 a second pages.
    rules = rule_file([generate(load(_slo({"minRate": 0.1})))])
    series = [
        *_handler("/menu", 60, failing=False),
        *_handler("/orders", 60, failing=True),
        *_handler("/health", 1, failing=True),
    ]
    pages = 'ALERTS{alertstate="firing",sloalert_tier="page"}'
    result = _run(
        tmp_path,
        promtool.without_annotations(rules),
        series,
        promtool.expr_test(pages, f"{HEALTHY_MINUTES + 20}m", [_page("/orders")]),
    )
    assert result.passed, result.output


def test_a_grouped_slo_whose_series_vanished_raises_its_one_no_data_alert(tmp_path: Path) -> None:
    # The presence the no-data alert remembers is one series for all groups.
    rules = rule_file([generate(load(_slo()))])
    series = [
        {**s, "values": f"{s['values']} _x60"}
        for h in HANDLERS
        for s in _handler(h, 60, failing=False)
    ]
    nodata = 'ALERTS{alertname="ApiPerHandlerNoData",alertstate="firing"}'
    result = _run(
        tmp_path,
        promtool.without_annotations(rules),
        series,
        promtool.expr_test(f"count({nodata})", f"{HEALTHY_MINUTES + OUTAGE_MINUTES}m"),
        promtool.expr_test(
            f"count({nodata})",
            f"{HEALTHY_MINUTES + OUTAGE_MINUTES + 30}m",
            [{"labels": "{}", "value": 1}],
        ),
    )
    assert result.passed, result.output
