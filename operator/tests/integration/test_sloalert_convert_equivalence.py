"""`sloalert convert` keeps what the source means, checked in the real promtool.

For each converted example (Sloth's own getting-started, its Kubernetes form and home-wifi, and
an OpenSLO v1 ratio SLO): the SLOAlerts validate, render to rules `promtool check rules`
accepts, and, fed the same input series, record the same error ratio the source defines at
every alert window (5m, 30m, 1h, 2h, 6h, 1d, 3d) and the same objective. The source's ratio is
written here from its own definition: Sloth's (error_query) / (total_query) with the window
put in, OpenSLO's bad over total counted over the window.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from sloalert import burnrate, conventions
from sloalert.cli import main
from sloalert.generator import generate
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool
from testkit import sloalert_testdata as corpus

pytestmark = pytest.mark.integration

CONVERT = corpus.TESTDATA / "convert"
WINDOWS = burnrate.windows([conventions.TIER_PAGE, conventions.TIER_TICKET])
EVAL_MINUTES = (90, 200, 300)
HOURS = 5


def _converted(file: str) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    assert main(["convert", str(CONVERT / file)], out=out, err=err) == 0, err.getvalue()
    return list(yaml.safe_load_all(out.getvalue()))


def _requests(name: str, labels: dict[str, str]) -> list[dict[str, str]]:
    """Good traffic throughout; bad traffic in the second and fourth hours, at two rates."""
    ok = promtool.counter((HOURS * 60, 60))
    bad = promtool.counter((60, 0), (60, 6), (60, 0), (60, 30), (60, 0))
    limited = promtool.counter((HOURS * 60, 1))
    return [
        promtool.series(name, {**labels, "code": "200"}, ok),
        promtool.series(name, {**labels, "code": "500"}, bad),
        promtool.series(name, {**labels, "code": "429"}, limited),
    ]


def _wifi() -> list[dict[str, str]]:
    """Five clients' satisfaction: some dip below 0.75, one below 0.5, for a while."""
    levels = {"a": "0.9", "b": "0.8", "c": "0.7", "d": "0.4", "e": "0.95"}
    series = []
    for client, level in levels.items():
        dip = "0.3" if client in {"b", "e"} else level
        values = f"{level}x120 {dip}x60 {level}x120"
        series.append(
            promtool.series("unifipoller_client_satisfaction_ratio", {"name": client}, values)
        )
    return series


SLOTH_WINDOW = "{{.window}}"


def _sloth_ratios(source: dict[str, Any], window: str) -> dict[str, str]:
    """Sloth's error ratio per SLO name, from its file: (error_query) / (total_query)."""
    ratios = {}
    for slo in source["slos"]:
        events = slo["sli"]["events"]
        error = events["error_query"].replace(SLOTH_WINDOW, window)
        total = events["total_query"].replace(SLOTH_WINDOW, window)
        ratios[f"{source['service']}-{slo['name']}"] = f"({error}) / ({total})"
    return ratios


def _openslo_ratio(window: str) -> str:
    bad = 'http_requests_total{job="checkout",code=~"5.."}'
    total = 'http_requests_total{job="checkout"}'
    return f"sum(increase({bad}[{window}])) / sum(increase({total}[{window}]))"


def _same(name: str, window: str, source_ratio: str, minute: int) -> dict[str, Any]:
    ours = f'{conventions.error_ratio_record(window)}{{sloalert_slo="{name}"}}'
    return promtool.expr_test(
        f"count(abs({ours} - on () ({source_ratio})) < 1e-9)",
        f"{minute}m",
        [{"labels": "{}", "value": 1}],
    )


def _objective(name: str, objective: float, minute: int) -> dict[str, Any]:
    ours = f'{conventions.OBJECTIVE_RECORD}{{sloalert_slo="{name}"}}'
    return promtool.expr_test(
        f"count(abs({ours} - {objective / 100!r}) < 1e-12)",
        f"{minute}m",
        [{"labels": "{}", "value": 1}],
    )


def _equivalent(
    tmp_path: Path,
    resources: list[dict[str, Any]],
    series: list[dict[str, str]],
    ratios: dict[str, Any],
) -> None:
    rules = rule_file(generate(load(r)) for r in resources)
    text = yaml.safe_dump(rules, sort_keys=False)
    checked = promtool.check_rules_text(promtool.promtool(), text, tmp_path / "check")
    assert checked.passed, checked.output
    tests = []
    for resource in resources:
        slo = resource["metadata"]["name"]
        for minute in EVAL_MINUTES:
            tests += [_same(slo, w, ratios[slo](w), minute) for w in WINDOWS]
            tests.append(_objective(slo, resource["spec"]["objective"], minute))
    result = promtool.run_rule_tests(
        promtool.promtool(),
        promtool.without_annotations(rules),
        [{"interval": "1m", "input_series": series, "promql_expr_test": tests}],
        tmp_path,
    )
    assert result.passed, result.output


@pytest.mark.parametrize("file", ["sloth-getting-started.yml", "sloth-home-wifi.yml"])
def test_sloth_examples_record_slothes_error_ratio_at_every_window(
    file: str, tmp_path: Path
) -> None:
    source = yaml.safe_load((CONVERT / file).read_text())
    resources = _converted(file)
    assert len(resources) == len(source["slos"])
    series = (
        _requests("http_request_duration_seconds_count", {"job": "myservice"})
        if "getting-started" in file
        else _wifi()
    )
    ratios = {
        name: (lambda w, name=name: _sloth_ratios(source, w)[name])
        for name in _sloth_ratios(source, "5m")
    }
    _equivalent(tmp_path, resources, series, ratios)


def test_slothes_kubernetes_form_converts_like_its_file_form_in_its_namespace() -> None:
    [from_file] = _converted("sloth-getting-started.yml")
    [from_crd] = _converted("sloth-k8s-getting-started.yml")
    assert from_crd["metadata"]["namespace"] == "monitoring"
    assert from_crd["spec"] == from_file["spec"]


def test_an_openslo_ratio_slo_records_bad_over_total_at_every_window(tmp_path: Path) -> None:
    [resource] = _converted("openslo-ratio.yaml")
    assert resource["spec"]["window"] == "28d"
    assert resource["spec"]["objective"] == 99.5
    # The policy's conditions are sloalert's 28-day page (13.44x over 1h) and ticket (2.8x
    # over 1d) pairs: both tiers stay, with the conditions' severities and alertAfter.
    assert resource["spec"]["alerting"]["page"] == {"labels": {"severity": "critical"}, "for": "2m"}
    assert resource["spec"]["alerting"]["ticket"] == {"labels": {"severity": "warning"}}
    series = _requests("http_requests_total", {"job": "checkout"})
    _equivalent(tmp_path, [resource], series, {resource["metadata"]["name"]: _openslo_ratio})


def test_an_openslo_good_over_total_slo_pages_when_no_event_is_good(tmp_path: Path) -> None:
    # Every request fails, so the good series (code!~"5..") has never been created: no good
    # event is 0 good events, a ratio of 1, and the page fires, not a silence.
    def query(text: str) -> dict[str, Any]:
        return {"metricSource": {"type": "Prometheus", "spec": {"query": text}}}

    slo = {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": "checkout-good"},
        "spec": {
            "service": "checkout",
            "indicator": {
                "metadata": {"name": "good"},
                "spec": {
                    "ratioMetric": {
                        "counter": True,
                        "good": query('http_requests_total{job="checkout",code!~"5.."}'),
                        "total": query('http_requests_total{job="checkout"}'),
                    }
                },
            },
            "timeWindow": [{"duration": "30d", "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": [{"targetPercent": 99.9}],
        },
    }
    out, err = io.StringIO(), io.StringIO()
    code = main(["convert", "-"], stdin=io.StringIO(yaml.safe_dump(slo)), out=out, err=err)
    assert code == 0, err.getvalue()
    [resource] = yaml.safe_load_all(out.getvalue())
    rules = promtool.without_annotations(rule_file([generate(load(resource))]))
    failing = promtool.counter((120, 60))
    series = [promtool.series("http_requests_total", {"job": "checkout", "code": "500"}, failing)]
    ratio = f'{conventions.error_ratio_record("5m")}{{sloalert_slo="checkout-good"}}'
    page = 'ALERTS{alertname="CheckoutGood",alertstate="firing",sloalert_tier="page"}'
    result = promtool.run_rule_tests(
        promtool.promtool(),
        rules,
        [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    promtool.expr_test(ratio, "60m", [{"labels": _labels(), "value": 1}]),
                    promtool.expr_test(f"count({page})", "60m", [{"labels": "{}", "value": 1}]),
                ],
            }
        ],
        tmp_path,
    )
    assert result.passed, result.output


def _labels() -> str:
    """The labels of checkout-good's 5m ratio recording: its identity and window."""
    return promtool.labels_text(
        {
            "__name__": conventions.error_ratio_record("5m"),
            "sloalert_service": "checkout",
            "sloalert_slo": "checkout-good",
            "sloalert_window": "5m",
        }
    )
