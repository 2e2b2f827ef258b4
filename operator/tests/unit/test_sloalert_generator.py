"""The generator: which rules, with which names, labels and numbers, for which spec."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import sloalert
from sloalert import burnrate, conventions, groups
from sloalert.generator import RuleSet, generate
from sloalert.validation import load
from testkit import sloalert_testdata as corpus


def _slo(alerting: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service": "fastapi",
        "indicator": {"preset": {"name": "fastapi-availability", "job": "fastapi"}},
        "objective": 99.9,
        **spec,
    }
    if alerting is not None:
        body["alerting"] = alerting
    return {
        "apiVersion": conventions.API_VERSION,
        "kind": conventions.KIND,
        "metadata": {"name": "fastapi-availability", "namespace": "apps"},
        "spec": body,
    }


def _rules(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in generate(load(resource)).groups for rule in group["rules"]]


def _records(resource: dict[str, Any]) -> list[str]:
    """The burn-rate recordings (the first group's), without the error-budget group's."""
    return [
        rule["record"] for rule in generate(load(resource)).groups[0]["rules"] if "record" in rule
    ]


def _budget_group(resource: dict[str, Any]) -> dict[str, Any]:
    [group] = generate(load(resource)).groups[1:]
    return group


def _alert(resource: dict[str, Any], tier: str) -> dict[str, Any]:
    [alert] = [
        r
        for r in _rules(resource)
        if r.get("labels", {}).get(conventions.TIER_LABEL) == tier and "alert" in r
    ]
    return alert


def test_default_tiers_record_the_seven_workbook_windows_shortest_first() -> None:
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    assert _records(_slo()) == [f"slo:sli_error:ratio_rate{w}" for w in windows]


def test_windows_are_recorded_only_for_the_tiers_that_are_on() -> None:
    page_only = _slo({"ticket": {"enabled": False}})
    ticket_only = _slo({"page": {"enabled": False}})
    assert _records(page_only) == [
        f"slo:sli_error:ratio_rate{w}" for w in ["5m", "30m", "1h", "6h"]
    ]
    assert _records(ticket_only) == [
        f"slo:sli_error:ratio_rate{w}" for w in ["2h", "6h", "1d", "3d"]
    ]


def test_a_burn_rate_slo_with_every_tier_and_the_guard_stays_within_sloths_16_rules() -> None:
    full = generate(load(_slo({"minRate": 0.1})))
    default = generate(load(_slo()))
    # 7 windows and 6 error-budget series; the guard reads the budget group's traffic.
    assert (default.recording, default.alerting) == (13, 3)
    assert (full.recording, full.alerting) == (13, 3)
    assert full.recording + full.alerting <= 16


def test_the_budget_group_records_objective_budget_traffic_and_what_is_left() -> None:
    group = _budget_group(_slo())
    assert group["name"] == "sloalert-apps-fastapi-availability-budget"
    assert group["interval"] == conventions.BUDGET_GROUP_INTERVAL
    rules = {rule["record"]: rule for rule in group["rules"]}
    assert list(rules) == [
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:sli_total:rate1h",
        "slo:sli_error:rate1h",
        "slo:sli_error:ratio_window",
        "slo:error_budget_remaining:ratio",
    ]
    assert rules["slo:objective:ratio"]["expr"] == "vector(0.999)"
    assert rules["slo:error_budget:ratio"]["expr"] == "vector(0.001)"
    assert rules["slo:objective:ratio"]["labels"][conventions.WINDOW_LABEL] == "30d"
    # The whole window is summed from the group's own 1h series, never from raw counters.
    whole = rules["slo:sli_error:ratio_window"]["expr"]
    assert "http_requests_total" not in whole
    assert whole.count("[30d]") == 2 and "> 0)" in whole


def test_the_budget_reads_the_2h_ratio_when_the_page_tier_is_off() -> None:
    group = _budget_group(_slo({"page": {"enabled": False}}))
    assert "slo:sli_error:rate2h" in [rule["record"] for rule in group["rules"]]


def test_an_expression_slo_averages_its_ratio_over_the_window_for_lack_of_event_counts() -> None:
    resource = _slo(
        indicator={"expression": "sum(rate(errors_total[$window])) / sum(rate(all_total[$window]))"}
    )
    rules = {rule["record"]: rule["expr"] for rule in _budget_group(resource)["rules"]}
    assert "slo:sli_total:rate1h" not in rules
    assert rules["slo:sli_error:ratio_window"].startswith(
        "avg_over_time(slo:sli_error:ratio_rate1h"
    )


def test_every_rule_carries_the_slos_identity_and_recordings_their_window() -> None:
    for rule in _rules(_slo()):
        assert rule["labels"][conventions.SLO_LABEL] == "fastapi-availability"
        assert rule["labels"][conventions.NAMESPACE_LABEL] == "apps"
        assert rule["labels"][conventions.SERVICE_LABEL] == "fastapi"
        if "record" in rule and rule["record"].startswith("slo:sli_"):
            window = rule["labels"][conventions.WINDOW_LABEL]
            assert rule["record"].endswith(window) or rule["record"].endswith("_window")


def test_page_and_ticket_share_the_alertname_and_differ_in_tier_and_severity() -> None:
    page, ticket = _alert(_slo(), "page"), _alert(_slo(), "ticket")
    assert page["alert"] == ticket["alert"] == "FastapiAvailability"
    assert (page["labels"]["severity"], ticket["labels"]["severity"]) == ("critical", "warning")
    assert page["labels"]["service"] == "fastapi"


def test_the_page_burns_at_14_4x_over_1h_and_5m_or_6x_over_6h_and_30m() -> None:
    expr = _alert(_slo(), "page")["expr"]
    own = '{sloalert_slo="fastapi-availability",sloalert_namespace="apps"}'
    assert f"slo:sli_error:ratio_rate1h{own} / 0.001 > 14.4" in expr
    assert f"slo:sli_error:ratio_rate5m{own} / 0.001 > 14.4" in expr
    assert f"slo:sli_error:ratio_rate6h{own} / 0.001 > 6" in expr
    assert f"slo:sli_error:ratio_rate30m{own} / 0.001 > 6" in expr
    assert expr.startswith("max without (sloalert_window) (")


def test_an_slo_without_a_namespace_selects_recordings_without_one() -> None:
    resource = _slo()
    del resource["metadata"]["namespace"]
    rules = _rules(resource)
    # Its recordings carry no namespace label, so `=""` matches them and only them: a
    # namespaced SLO of the same name records sloalert_namespace="apps".
    assert all(conventions.NAMESPACE_LABEL not in r["labels"] for r in rules)
    own = '{sloalert_slo="fastapi-availability",sloalert_namespace=""}'
    for tier in ("page", "ticket"):
        expr = _alert(resource, tier)["expr"]
        assert expr.count("slo:sli_error:ratio_rate") == expr.count(own) == 4, expr


@pytest.mark.parametrize(
    ("window", "factors"),
    [
        ("30d", {"page": [14.4, 6.0], "ticket": [3.0, 1.0]}),
        ("28d", {"page": [13.44, 5.6], "ticket": [2.8, 1.0]}),  # 0.93x would alert in budget
        ("90d", {"page": [43.2, 18.0], "ticket": [9.0, 3.0]}),
    ],
)
def test_burn_factors_follow_from_the_window_and_never_drop_below_1(
    window: str, factors: dict[str, list[float]]
) -> None:
    for tier, expected in factors.items():
        assert [c.factor for c in burnrate.conditions(tier, window)] == expected


def test_short_windows_are_a_twelfth_of_the_long_ones() -> None:
    pairs = [
        (c.long, c.short) for tier in ("page", "ticket") for c in burnrate.conditions(tier, "30d")
    ]
    assert pairs == [("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]


def test_the_traffic_guard_averages_the_budget_groups_traffic_over_each_long_window() -> None:
    resource = _slo({"minRate": 0.25})
    assert [r for r in _records(resource) if "sli_total" in r] == []
    own = '{sloalert_slo="fastapi-availability",sloalert_namespace="apps"}'
    page = _alert(resource, "page")["expr"]
    assert f"slo:sli_total:rate1h{own} >= 0.25" in page
    assert f"avg_over_time(slo:sli_total:rate1h{own}[5h]) >= 0.25" in page
    ticket = _alert(resource, "ticket")["expr"]
    assert f"avg_over_time(slo:sli_total:rate1h{own}[23h]) >= 0.25" in ticket
    assert f"avg_over_time(slo:sli_total:rate1h{own}[2d23h]) >= 0.25" in ticket


def test_tier_settings_layer_over_the_slos_own() -> None:
    resource = _slo(
        {
            "page": {
                "for": "2m",
                "labels": {"severity": "page", "team": "oncall"},
                "annotations": {"summary": "custom"},
            }
        },
        labels={"team": "web", "env": "prod"},
        annotations={"runbook_url": "https://runbooks.example/x"},
    )
    page = _alert(resource, "page")
    assert page["for"] == "2m"
    assert page["labels"]["severity"] == "page"
    assert page["labels"]["team"] == "oncall"
    assert page["labels"]["env"] == "prod"
    assert page["annotations"]["summary"] == "custom"
    assert page["annotations"]["runbook_url"] == "https://runbooks.example/x"
    ticket = _alert(resource, "ticket")
    assert "for" not in ticket
    assert ticket["labels"]["team"] == "web"


def test_default_annotations_name_service_slo_burn_rate_and_windows() -> None:
    notes = _alert(_slo(), "page")["annotations"]
    text = notes["summary"] + notes["description"]
    for part in ("fastapi", "fastapi-availability", "$value", "14.4x over 1h", "6x over 6h", "30d"):
        assert part in text
    assert "runbook_url" not in notes


def test_the_no_data_alert_watches_the_total_series_and_can_be_turned_off() -> None:
    nodata = _alert(_slo(), "nodata")
    assert nodata["alert"] == "FastapiAvailabilityNoData"
    # Only data that vanished: the total exists no more, though the budget group recorded
    # its events per second within the SLO's window (one series: no raw series are read).
    assert nodata["expr"] == (
        'absent(http_requests_total{job="fastapi"})\nand on ()\n'
        'count_over_time(slo:sli_total:rate1h{sloalert_slo="fastapi-availability",'
        'sloalert_namespace="apps"}[30d])'
    )
    assert nodata["for"] == "10m"
    assert not [
        r
        for r in _rules(_slo({"noData": {"enabled": False}}))
        if "alert" in r and r["alert"].endswith("NoData")
    ]


def test_a_threshold_slo_renders_one_alert_comparing_the_value() -> None:
    resource = _slo(
        {"mode": "threshold", "above": 0.01, "for": "2m", "tier": "page", "rateWindow": "10m"}
    )
    del resource["spec"]["objective"]
    rules = _rules(resource)
    # Only what the no-data alert remembers the sources by.
    assert [r.get("record") for r in rules if "record" in r] == [conventions.PRESENCE_RECORD]
    alert = _alert(resource, "page")
    assert alert["expr"].endswith(") > 0.01")
    assert "[10m]" in alert["expr"]
    assert alert["for"] == "2m"
    assert alert["labels"]["severity"] == "critical"


def test_a_threshold_alert_is_a_ticket_by_default() -> None:
    resource = _slo({"mode": "threshold", "below": 0.5})
    assert _alert(resource, "ticket")["expr"].endswith(") < 0.5")


def test_zero_traffic_gives_no_ratio_sample_rather_than_nan() -> None:
    [ratio] = [r for r in _rules(_slo()) if r.get("record") == "slo:sli_error:ratio_rate5m"]
    # No events: the denominator is filtered out. No errors yet: the numerator is 0.
    assert "> 0)" in ratio["expr"]
    assert "or vector(0)" in ratio["expr"]


@pytest.mark.parametrize("example", corpus.valid(), ids=lambda e: e.id)
def test_every_generated_expression_parses(example: corpus.Example) -> None:
    for rule in (r for g in generate(load(example.body)).groups for r in g["rules"]):
        assert isinstance(promql_parser.parse(rule["expr"]), promql_parser.Expr), rule


@pytest.mark.parametrize("example", corpus.valid(), ids=lambda e: e.id)
def test_the_rule_set_counts_what_it_holds(example: corpus.Example) -> None:
    rules: RuleSet = generate(load(example.body))
    flat = [r for g in rules.groups for r in g["rules"]]
    assert rules.recording == sum("record" in r for r in flat)
    assert rules.alerting == sum("alert" in r for r in flat)


def test_generation_is_pure_the_same_spec_gives_the_same_rules() -> None:
    assert generate(load(_slo())) == generate(load(_slo()))


# Kubernetes and network clients, the standard library's too: no module may load them, not
# even through a dependency.
NETWORK_CLIENTS = (
    "kopf",
    "lightkube",
    "kubernetes",
    "httpx",
    "httpx2",
    "requests",
    "aiohttp",
    "urllib3",
    "http.client",
    "urllib.request",
)
# pydantic's imports load socket (importlib.metadata -> email.utils -> socket) without using it,
# so socket is looked for in sloalert's own imports only.
SOCKET = "socket"
# sloalert's own modules; the operator subpackage (kopf, lightkube) is a folder, not matched.
PURE_MODULES = sorted(Path(sloalert.__file__).parent.glob("*.py"))


def test_the_generator_loads_no_kubernetes_or_network_client() -> None:
    probe = (
        "import sys, sloalert.generator, sloalert.render, sloalert.cli; "
        f"bad = [m for m in sys.modules if any(m == f or m.startswith(f + '.') "
        f"for f in {NETWORK_CLIENTS!r})]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_sloalert_module_imports_a_network_module_itself() -> None:
    imports = {path.name: _imports(path) for path in PURE_MODULES}
    assert "promql_parser" in imports["promql.py"]  # the check reads real imports
    forbidden = (*NETWORK_CLIENTS, SOCKET)
    bad = {
        name: sorted(m for m in found if any(m == f or m.startswith(f + ".") for f in forbidden))
        for name, found in imports.items()
    }
    assert {name: found for name, found in bad.items() if found} == {}


def _imports(path: Path) -> set[str]:
    """Every module a file imports: `import a.b` gives a.b, `from a import b` a and a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_every_alert_carries_the_sloalerts_namespace_and_no_other() -> None:
    for tier in ("page", "ticket", "nodata"):
        assert _alert(_slo(), tier)["labels"]["namespace"] == "apps"
    resource = _slo()
    del resource["metadata"]["namespace"]
    assert "namespace" not in _alert(resource, "page")["labels"]


def test_a_grouped_slo_counts_its_groups_and_names_a_count_over_its_limit() -> None:
    grouped = load(
        _slo(
            indicator={
                "ratio": {
                    "errors": 'http_requests_total{job="fastapi",status="5xx"}',
                    "total": 'http_requests_total{job="fastapi"}',
                },
                "groupBy": ["handler", "method"],
                "maxGroups": 3,
            }
        )
    ).spec
    assert groups.count_query(grouped) == (
        'count(count by (handler, method) (http_requests_total{job="fastapi"}))'
    )
    assert groups.too_many(grouped, 3) is None
    message = groups.too_many(grouped, 4)
    assert message is not None and "4 groups by handler, method" in message
    assert "maxGroups (3)" in message
    ungrouped = load(_slo()).spec
    assert groups.count_query(ungrouped) is None
    assert groups.limit(ungrouped) == 50


@pytest.mark.parametrize(
    ("indicator", "no_data", "present"),
    [
        # The budget group's events per second serve: no rule of its own.
        ({"preset": {"name": "fastapi-availability", "job": "fastapi"}}, True, False),
        ({"expression": "sum(rate(e[$window])) / sum(rate(t[$window]))"}, True, True),
        (
            {
                "ratio": {"errors": 'a_total{code="500"}', "total": "a_total"},
                "groupBy": ["handler"],
            },
            True,
            True,
        ),
        ({"expression": "sum(rate(e[$window])) / sum(rate(t[$window]))"}, False, False),
    ],
    ids=["ratio", "expression", "grouped", "expression without no-data"],
)
def test_the_presence_series_is_recorded_only_where_no_recording_serves(
    indicator: dict[str, Any], no_data: bool, present: bool
) -> None:
    resource = _slo({"noData": {"enabled": no_data}}, indicator=indicator)
    budget = _budget_group(resource)
    recorded = [r["record"] for r in budget["rules"]]
    assert (conventions.PRESENCE_RECORD in recorded) is present
    if present:
        [rule] = [r for r in budget["rules"] if r["record"] == conventions.PRESENCE_RECORD]
        assert rule["expr"].startswith("group(")
