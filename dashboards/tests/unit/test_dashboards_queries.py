"""Every panel query parses as PromQL once its variables are substituted, and reads only series
that something in this project produces: the apps' and node-exporter's families
(sloalert.exporters), sloalert's recordings, the operator's and the relay's own metrics (read
from their registries), and Prometheus' ALERTS."""

from __future__ import annotations

import promql_parser
import pytest
import yaml
from discord_relay.metrics import RelayMetrics
from fdc_dashboards import alerting_path, generate, queries
from sloalert import conventions, exporters
from sloalert.generator import generate as generate_rules
from sloalert.operator.metrics import OperatorMetrics
from sloalert.promql import selectors_in
from sloalert.validation import load
from testkit.tools import REPO_ROOT

FILES = sorted(generate.OUTPUT_DIR.glob("*.json"))
ALL = [query for path in FILES for query in queries.panel_queries(path)]
SHIPPED_SLOS = REPO_ROOT / "manifests" / "slo"


def _burn_rate_slos() -> list[str]:
    slos = [load(yaml.safe_load(p.read_text())) for p in sorted(SHIPPED_SLOS.glob("*.yaml"))]
    return [slo.metadata.name for slo in slos if slo.spec.alerting.mode == "burnRate"]


def _recorded() -> set[str]:
    """Every series name sloalert records for the shipped SLOs."""
    names = set()
    for path in sorted(SHIPPED_SLOS.glob("*.yaml")):
        for group in generate_rules(load(yaml.safe_load(path.read_text()))).groups:
            names |= {rule["record"] for rule in group["rules"] if "record" in rule}
    return names


def _registered(registry) -> set[str]:
    return {sample.name for family in registry.collect() for sample in family.samples} | {
        f"{family.name}_bucket" for family in registry.collect() if family.type == "histogram"
    }


def _known() -> set[str]:
    families = {
        name
        for family in exporters.__dict__.values()
        if isinstance(family, exporters.Family)
        for name in (
            [family.name, family.bucket, family.count]
            if family.kind == "histogram"
            else [family.name]
        )
    }
    return families | _recorded() | {"ALERTS"} | set(alerting_path.METRICS)


@pytest.mark.parametrize("query", ALL, ids=lambda q: f"{q.dashboard}: {q.panel}")
def test_a_panel_query_parses_after_substitution(query: queries.PanelQuery) -> None:
    for slo in _burn_rate_slos():
        expr = queries.substitute(query.expr, slo=slo)
        assert "$" not in expr
        assert isinstance(promql_parser.parse(expr), promql_parser.Expr), expr


@pytest.mark.parametrize("query", ALL, ids=lambda q: f"{q.dashboard}: {q.panel}")
def test_a_panel_query_reads_only_series_this_project_produces(query: queries.PanelQuery) -> None:
    parsed = promql_parser.parse(queries.substitute(query.expr, slo="fastapi-availability"))
    read = {selector.metric for selector in selectors_in(parsed)}
    assert read <= _known(), f"{query.panel}: unknown series {read - _known()}"


@pytest.mark.parametrize("query", ALL, ids=lambda q: f"{q.dashboard}: {q.panel}")
def test_app_queries_filter_by_namespace_and_slo_queries_by_their_own_labels(
    query: queries.PanelQuery,
) -> None:
    parsed = promql_parser.parse(queries.substitute(query.expr, slo="fastapi-availability"))
    node = {family.name for family in exporters.NODE_FAMILIES}
    for selector in selectors_in(parsed):
        labels = {(m.label, m.op, m.value) for m in selector.matchers}
        if selector.metric in node:
            continue  # nodes belong to no namespace
        if selector.metric == "ALERTS" or selector.metric.startswith("slo:"):
            assert (conventions.NAMESPACE_LABEL, "=~", ".*") in labels, query.expr
            assert (conventions.SLO_LABEL, "=~", "fastapi-availability") in labels, query.expr
        else:
            assert ("namespace", "=~", ".*") in labels, query.expr


def test_the_operator_and_relay_names_are_those_their_registries_export() -> None:
    exported = _registered(OperatorMetrics().registry) | _registered(RelayMetrics().registry)
    # Labelled counters export samples only once used: count their families' names too.
    exported |= {
        f"{family.name}_total"
        for registry in (OperatorMetrics().registry, RelayMetrics().registry)
        for family in registry.collect()
        if family.type == "counter"
    }
    assert set(alerting_path.METRICS) <= exported, set(alerting_path.METRICS) - exported


def test_the_listing_finds_every_target_and_marks_alerts_as_possibly_empty() -> None:
    slos = queries.panel_queries(generate.OUTPUT_DIR / "fdc-slos.json")
    assert {q.dashboard for q in slos} == {"SLOs"}
    assert [q.panel for q in slos if not q.expects_data] == ["Alerts firing now"]
    burn = [q.expr for q in slos if q.panel == "Burn rate"]
    assert len(burn) == 5


def test_substitution_refuses_a_variable_it_does_not_know() -> None:
    with pytest.raises(KeyError, match="unknown"):
        queries.substitute('up{x="$unknown"}', slo="a")
    assert queries.substitute("r[$__rate_interval] ${namespace} [[slo]]", slo="a") == "r[1m] .* a"
