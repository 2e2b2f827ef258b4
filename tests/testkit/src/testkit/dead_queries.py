"""No dead queries: every metric selector this project ships must match series that really exist.

The queries come from every place that ships PromQL:

- the rules of every SLOAlert in manifests/slo (rendered here by sloalert's own generator);
- every preset, with its default job (the `job` its app chart gives; none for the node and
  target presets, which read every job);
- every Grafana dashboard query (`fdc_dashboards`' listing, its variables substituted);
- every Grafana-managed alert query (the umbrella's provisioning, read by `stack_config`).

Each expression is parsed with promql-parser (`sloalert.promql`), and each of its selectors is
asked of a running Prometheus (`sloalert.series_check.live`, over the last hour), a plain
alternation (`job=~"a|b"`) once per alternative as sloalert's own check asks it; for a dead one
`series_check.explain` says why ("http_requests_total exists, but none with job=..."). The
running Prometheus must have scraped the apps and node_exporter after traffic and errors, and
evaluated the shipped rules: `fdc_local.stack` and `testkit.alert_path` do both.

Selectors of series recorded by a rule set that is not loaded into that Prometheus (a preset's
own `slo:*` series) are not asked: only the shipped rule sets run there, and theirs are asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fdc_dashboards import queries as dashboard_panels
from fdc_local.stack import chart_job
from sloalert import presets, series_check
from sloalert.adapters.prometheus_api import PrometheusAPI
from sloalert.generator import RuleSet, generate
from sloalert.promql import PromQLError, Selector, parse, selectors_in
from sloalert.validation import load

from testkit import stack_config
from testkit.tools import REPO_ROOT

MANIFESTS_DIR = REPO_ROOT / "manifests" / "slo"
DASHBOARDS_DIR = stack_config.UMBRELLA_DIR / "dashboards"
# The app chart whose `job` a preset reads by default, by the preset's name prefix.
PRESET_CHARTS = {"fastapi-": "fastdining-api", "django-": "airestaurant"}


@dataclass(frozen=True)
class Query:
    """One PromQL expression and where it is shipped, for a person to find it."""

    source: str  # "manifests/slo/x.yaml: alert FastapiAvailability (page)"
    expr: str
    # Recorded series this query may read without asking (see the module's docstring).
    unloaded_records: frozenset[str] = frozenset()
    # A query that rightly returns nothing while all is well (a panel of firing alerts): dead
    # only when no time could make it match (a metric, label or job that exists nowhere).
    optional: bool = False


@dataclass(frozen=True)
class DeadSelector:
    query: Query
    selector: str
    reason: str

    def __str__(self) -> str:
        return f"{self.query.source}: {self.selector}: {self.reason}"


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _rule_name(rule: dict[str, Any]) -> str:
    if "record" in rule:
        return f"record {rule['record']} ({rule.get('labels', {}).get('sloalert_window', '')})"
    return f"alert {rule['alert']} ({rule.get('labels', {}).get('sloalert_tier', '')})"


def rule_set_queries(origin: str, rules: RuleSet, *, loaded: bool) -> list[Query]:
    """Every expression of a rule set; `loaded`: it runs in the Prometheus asked."""
    records = {
        rule["record"] for group in rules.groups for rule in group["rules"] if "record" in rule
    }
    unloaded = frozenset() if loaded else frozenset(records)
    return [
        Query(f"{origin}: {_rule_name(rule)}", rule["expr"], unloaded)
        for group in rules.groups
        for rule in group["rules"]
    ]


def manifest_queries(
    files: Iterable[Path] | None = None, *, loaded: Callable[[Path], bool] = lambda _: True
) -> list[Query]:
    """The rules of every SLOAlert file (all of manifests/slo by default)."""
    queries = []
    for path in sorted(files if files is not None else MANIFESTS_DIR.glob("*.yaml")):
        slo = load(yaml.safe_load(path.read_text(encoding="utf-8")))
        queries += rule_set_queries(_relative(path), generate(slo), loaded=loaded(path))
    return queries


def default_job(preset: str) -> str | None:
    chart = next((c for prefix, c in PRESET_CHARTS.items() if preset.startswith(prefix)), None)
    return chart_job(chart) if chart else None


def preset_sloalert(name: str) -> dict[str, Any]:
    """The smallest valid SLOAlert using preset `name` with its default job."""
    definition = presets.PRESETS[name]
    preset: dict[str, Any] = {"name": name}
    if job := default_job(name):
        preset["job"] = job
    if definition.kind == "latency":
        buckets = definition.buckets
        preset["thresholdSeconds"] = buckets[len(buckets) // 2]
    spec: dict[str, Any] = {"service": "dead-query-check", "indicator": {"preset": preset}}
    if definition.kind in {"ratio", "latency"}:
        spec |= {"objective": 99.0, "window": "30d"}
    elif definition.kind == "up":
        spec["alerting"] = {"mode": "threshold", "below": 1}
    else:
        spec["alerting"] = {"mode": "threshold", "above": 0.5}
    return {
        "apiVersion": "slo.fastdining.dev/v1alpha1",
        "kind": "SLOAlert",
        "metadata": {"name": f"preset-{name}"},
        "spec": spec,
    }


def preset_queries() -> list[Query]:
    """The rules every preset makes with its default job (not loaded into Prometheus)."""
    origin = _relative(Path(presets.__file__))
    queries = []
    for name in sorted(presets.PRESETS):
        rules = generate(load(preset_sloalert(name)))
        queries += rule_set_queries(f"{origin}: preset {name}", rules, loaded=False)
    return queries


def burn_rate_slos() -> list[str]:
    """The names of the shipped SLOAlerts with burn-rate alerting (the SLO dashboard's $slo)."""
    names = []
    for path in stack_config.shipped_sloalert_files():
        slo = load(yaml.safe_load(path.read_text(encoding="utf-8")))
        if slo.spec.alerting.mode == "burnRate":
            names.append(slo.metadata.name)
    return names


def dashboard_queries(directory: Path = DASHBOARDS_DIR) -> list[Query]:
    """Every panel query of every dashboard JSON, once per shipped burn-rate SLO for `$slo`
    and the other variables as fdc_dashboards.queries substitutes them."""
    queries: dict[tuple[str, str], Query] = {}
    for path in sorted(directory.glob("*.json")):
        for panel in dashboard_panels.panel_queries(path):
            origin = f"{_relative(path)}: panel {panel.panel!r}"
            for slo in burn_rate_slos():
                expr = dashboard_panels.substitute(panel.expr, slo=slo)
                key = (origin, expr)
                queries[key] = Query(origin, expr, optional=not panel.expects_data)
    return list(queries.values())


def grafana_alert_queries() -> list[Query]:
    return [
        Query(f"{_relative(q.source)}: rule {q.rule_uid} query {q.ref_id}", q.expr)
        for q in stack_config.grafana_alert_queries()
    ]


def shipped_queries() -> list[Query]:
    """Every query of the four sources (see the module's docstring)."""
    shipped = {path.name for path in stack_config.shipped_sloalert_files()}
    return [
        *manifest_queries(loaded=lambda path: path.name in shipped),
        *preset_queries(),
        *dashboard_queries(),
        *grafana_alert_queries(),
    ]


def selectors_of(query: Query) -> tuple[list[Selector], str | None]:
    """The selectors a query reads (minus unloaded records), or why it cannot be parsed."""
    try:
        found = selectors_in(parse(query.expr))
    except PromQLError as exc:
        return [], str(exc)
    return [s for s in found if s.metric not in query.unloaded_records], None


def parts_of(selector: Selector) -> list[tuple[Selector, str]]:
    """What is asked for `selector`: itself, or each alternative of its plain alternations
    (`job=~"a|b"`), as sloalert's own check asks them, with what to add to a dead one's reason."""
    split = series_check.alternatives(selector)
    return [(part, f" (one of {matcher})") for part, matcher in split] or [(selector, "")]


async def _dead(queries: Sequence[Query], source: series_check.SeriesSource) -> list[DeadSelector]:
    parsed = {query: selectors_of(query) for query in queries}
    dead = [
        DeadSelector(query, query.expr, f"does not parse: {problem}")
        for query, (_, problem) in parsed.items()
        if problem
    ]
    every = [part for selectors, _ in parsed.values() for s in selectors for part, _ in parts_of(s)]
    live = await series_check.live(every, source)
    missing = list(dict.fromkeys(s for s in every if s not in live))
    reasons = await asyncio.gather(*(series_check.explain(s, source) for s in missing))
    # explain() finds nothing wrong when the series came after all: then it is not dead.
    why = {
        selector: finding
        for selector, finding in zip(missing, reasons, strict=True)
        if finding is not None
    }
    for query, (selectors, _) in parsed.items():
        dead += [
            DeadSelector(query, str(s), why[part].message + context)
            for s in selectors
            for part, context in parts_of(s)
            if part in why and (why[part].certain or not query.optional)
        ]
    return dead


def dead_selectors(queries: Sequence[Query], prometheus_url: str) -> list[DeadSelector]:
    """Each selector of `queries` that matches no series in the Prometheus at the URL."""

    async def ask() -> list[DeadSelector]:
        api = PrometheusAPI(prometheus_url)
        try:
            return await _dead(queries, api)
        finally:
            await api.close()

    return asyncio.run(ask())
