"""How the generated burn-rate rules behave over time, run by the real promtool.

A 99.9% availability SLO over 30d with the default tiers (page: 14.4x over 1h/5m or 6x over
6h/30m; ticket: 3x over 1d/2h or 1x over 3d/6h) against synthetic FastAPI traffic of 1 request a
second, sampled every minute. Page and ticket alerts share an alertname and differ in their
sloalert_tier label, so expectations read the ALERTS series of one tier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sloalert.generator import generate
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool
from testkit.slo_traffic import Phase, availability_slo, fastapi_requests, minutes

pytestmark = pytest.mark.integration

JOB = "fastapi"
NAME = "fastapi-availability"
ALERT = "FastapiAvailability"
# Six healthy hours first, so every page window starts from a steady state.
HEALTHY = Phase(6 * 60, 1.0, 0.0)


def _rules(*resources: dict[str, Any]) -> dict[str, Any]:
    return promtool.without_annotations(rule_file(generate(load(r)) for r in resources))


def _run(
    tmp_path: Path, rules: dict[str, Any], series: list[dict[str, str]], *tests: dict[str, Any]
) -> promtool.Result:
    return promtool.run_rule_tests(
        promtool.promtool(),
        rules,
        [{"interval": "1m", "input_series": series, "promql_expr_test": list(tests)}],
        tmp_path,
    )


def _alerts(tier: str, alert: str) -> str:
    return f'ALERTS{{alertname="{alert}",alertstate="firing",sloalert_tier="{tier}"}}'


def _firing(at: int, tier: str = "page", name: str = NAME, alert: str = ALERT) -> dict[str, Any]:
    labels = promtool.labels_text(
        {
            "__name__": "ALERTS",
            "alertname": alert,
            "alertstate": "firing",
            "severity": "critical" if tier == "page" else "warning",
            "service": JOB,
            "namespace": "apps",
            "sloalert_namespace": "apps",
            "sloalert_service": JOB,
            "sloalert_slo": name,
            "sloalert_tier": tier,
        }
    )
    return promtool.expr_test(_alerts(tier, alert), f"{at}m", [{"labels": labels, "value": 1}])


def _quiet(at: int, tier: str = "page", alert: str = ALERT) -> dict[str, Any]:
    return promtool.expr_test(_alerts(tier, alert), f"{at}m")


def _never(tier: str, until: int, alert: str = ALERT) -> dict[str, Any]:
    """No alert of `tier`, pending or firing, at any evaluation up to `until` minutes."""
    selector = f'ALERTS{{alertname="{alert}",sloalert_tier="{tier}"}}'
    return promtool.expr_test(f"count_over_time({selector}[{until}m])", f"{until}m")


def test_a_total_outage_pages_within_two_minutes(tmp_path: Path) -> None:
    onset = minutes([HEALTHY])
    series = fastapi_requests(JOB, [HEALTHY, Phase(10, 1.0, 1.0)])
    result = _run(
        tmp_path, _rules(availability_slo(NAME, JOB)), series, _quiet(onset), _firing(onset + 2)
    )
    assert result.passed, result.output


def test_a_ten_percent_error_rate_pages_within_ten_minutes(tmp_path: Path) -> None:
    onset = minutes([HEALTHY])
    series = fastapi_requests(JOB, [HEALTHY, Phase(12, 1.0, 0.10)])
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB)),
        series,
        _quiet(onset + 5),
        _firing(onset + 10),
    )
    assert result.passed, result.output


def test_a_burn_at_exactly_the_budget_rate_never_pages(tmp_path: Path) -> None:
    hours = 8
    series = fastapi_requests(JOB, [Phase(hours * 60, 1.0, 0.001)])
    result = _run(tmp_path, _rules(availability_slo(NAME, JOB)), series, _never("page", hours * 60))
    assert result.passed, result.output


def test_zero_traffic_never_alerts_and_records_no_nan(tmp_path: Path) -> None:
    until = 8 * 60
    series = fastapi_requests(JOB, [Phase(until, 0.0)])
    recorded = f'{{__name__=~"slo:sli_error:.*",sloalert_slo="{NAME}"}}'
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB)),
        series,
        _never("page", until),
        _never("ticket", until),
        _never("nodata", until, ALERT + "NoData"),
        # No traffic is no sample at all: neither 0/0 = NaN nor a made-up 0, at any time.
        promtool.expr_test(f"count_over_time({recorded}[{until}m])", f"{until}m"),
    )
    assert result.passed, result.output


def test_the_page_resolves_within_six_minutes_of_recovery(tmp_path: Path) -> None:
    # 10% errors for 15 minutes: pages through the 1h/5m pair only (the 6h ratio stays below
    # 6x), whose 5m window forgets the incident 5 minutes after it ends. Incidents that trip
    # the 6h/30m pair too resolve later (the next test).
    recovery = minutes([HEALTHY]) + 15
    series = fastapi_requests(JOB, [HEALTHY, Phase(15, 1.0, 0.10), Phase(30, 1.0, 0.0)])
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB)),
        series,
        _firing(recovery),
        _quiet(recovery + 6),
    )
    assert result.passed, result.output


def test_after_a_total_outage_the_page_resolves_with_its_30_minute_window(
    tmp_path: Path,
) -> None:
    # 100% errors for 10 minutes also trips the 6h/30m pair (6x), which holds the page until
    # its 30m window no longer sees the outage: the workbook's design, not a 6-minute reset.
    recovery = minutes([HEALTHY]) + 10
    series = fastapi_requests(JOB, [HEALTHY, Phase(10, 1.0, 1.0), Phase(45, 1.0, 0.0)])
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB)),
        series,
        _firing(recovery + 25),
        _quiet(recovery + 30 + 1),  # the short window, and one evaluation
    )
    assert result.passed, result.output


def test_an_slo_without_a_namespace_ignores_a_namespaced_one_of_the_same_name(
    tmp_path: Path,
) -> None:
    # `sloalert render` output (no namespace) next to the operator's rules for an SLOAlert of
    # the same name in a namespace: only the failing one pages.
    unscoped = availability_slo(NAME, "other", alerting={"name": "Unscoped"})
    del unscoped["metadata"]["namespace"]
    onset = minutes([HEALTHY])
    series = [
        *fastapi_requests(JOB, [HEALTHY, Phase(10, 1.0, 1.0)]),
        *fastapi_requests("other", [HEALTHY, Phase(10, 1.0)]),
    ]
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB), unscoped),
        series,
        _firing(onset + 2),
        _never("page", onset + 10, "Unscoped"),
    )
    assert result.passed, result.output


def _no_data_labels(nodata: str) -> str:
    return promtool.labels_text(
        {
            "__name__": "ALERTS",
            "alertname": nodata,
            "alertstate": "firing",
            "job": JOB,  # absent() keeps the selector's equality matchers
            "severity": "warning",
            "service": JOB,
            "namespace": "apps",
            "sloalert_namespace": "apps",
            "sloalert_service": JOB,
            "sloalert_slo": NAME,
            "sloalert_tier": "nodata",
        }
    )


def test_absent_series_raise_the_no_data_alert(tmp_path: Path) -> None:
    nodata = ALERT + "NoData"
    labels = _no_data_labels(nodata)
    # The last samples are at 30m: instant queries see them for 5m more, then `for: 10m`.
    series = [
        {**s, "values": s["values"] + " _x60"} for s in fastapi_requests(JOB, [Phase(30, 1.0)])
    ]
    firing = _alerts("nodata", nodata)
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB)),
        series,
        promtool.expr_test(firing, "30m"),
        promtool.expr_test(firing, "44m"),
        promtool.expr_test(firing, "46m", [{"labels": labels, "value": 1}]),
    )
    assert result.passed, result.output


@pytest.mark.parametrize(
    "alerting",
    [None, {"mode": "threshold", "above": 0.5}, {"minRate": 0.1}],
    ids=["burn rate", "threshold", "burn rate with a traffic guard"],
)
def test_data_that_vanished_keeps_the_no_data_alert_firing_until_it_returns(
    tmp_path: Path, alerting: dict[str, Any] | None
) -> None:
    # Traffic for 61 minutes, none for 25 hours (longer than any raw lookback a day long),
    # then traffic again: firing all along, never a RESOLVED while the data is still gone.
    gone, back = 61, 26 * 60
    series = [
        {**s, "values": f"{s['values']} _x{back - gone - 1} 0+60x30"}
        for s in fastapi_requests(JOB, [Phase(gone, 1.0)])
    ]
    nodata = ALERT + "NoData"
    firing = _alerts("nodata", nodata)
    expected = [{"labels": _no_data_labels(nodata), "value": 1}]
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB, alerting=alerting)),
        series,
        promtool.expr_test(firing, f"{gone}m"),
        *(promtool.expr_test(firing, f"{m}m", expected) for m in (90, 25 * 60 + 30, back - 1)),
        promtool.expr_test(firing, f"{back + 1}m"),
    )
    assert result.passed, result.output


def test_series_that_never_existed_raise_no_alert(tmp_path: Path) -> None:
    # A fresh, idle install: the app is scraped but has served nothing yet, so its request
    # counters do not exist. That is SeriesFound's business (status), not a page or a ticket.
    idle = [{"series": f'up{{job="{JOB}"}}', "values": "1x240"}]
    result = _run(
        tmp_path,
        _rules(availability_slo(NAME, JOB)),
        idle,
        *(promtool.expr_test('ALERTS{alertstate="firing"}', f"{m}m") for m in (15, 60, 240)),
        promtool.expr_test('ALERTS{alertstate="pending"}', "20m"),
    )
    assert result.passed, result.output


def test_the_minimum_traffic_guard_holds_pages_for_a_quiet_service(tmp_path: Path) -> None:
    guarded = availability_slo("guarded", JOB, alerting={"minRate": 0.5})
    unguarded = availability_slo("unguarded", JOB)
    # 0.1 requests a second, all failing after an hour: a page without the guard, none with it.
    series = fastapi_requests(JOB, [Phase(60, 0.1, 0.0), Phase(60, 0.1, 1.0)])
    result = _run(
        tmp_path,
        _rules(guarded, unguarded),
        series,
        _never("page", 120, "Guarded"),
        _never("ticket", 120, "Guarded"),
        _firing(120, name="unguarded", alert="Unguarded"),
    )
    assert result.passed, result.output


def test_a_wrong_expectation_fails_so_the_harness_can_fail(tmp_path: Path) -> None:
    series = fastapi_requests(JOB, [HEALTHY])
    result = _run(tmp_path, _rules(availability_slo(NAME, JOB)), series, _firing(60))
    assert not result.passed
    assert "FAILED" in result.output
    assert ALERT in result.output
