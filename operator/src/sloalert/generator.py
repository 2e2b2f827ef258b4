"""SLOAlert in, Prometheus rule groups out. Pure: no Kubernetes, no network, no clock.

For a burn-rate SLO it writes one recording rule per window the enabled tiers read (the
bad-event ratio, `slo:sli_error:ratio_rate<window>`), then one alert per tier that fires while
any of the tier's window pairs burns too fast, plus a no-data alert; and, in a second group with
a slower interval, the error-budget series of `budget`. For a threshold SLO it
writes the seeds' kind of alert (`value > above for 5m`) and the no-data alert. The no-data
alert reads one recorded series that exists while the indicator's sources do (a recording the
SLO has anyway when it can, else `slo:sli_sources:present`), never the raw series over time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sloalert import alert_annotations, budget, burnrate, conventions, indicators
from sloalert.conventions import (
    SEVERITY_LABEL,
    TIER_LABEL,
    TIER_NODATA,
    TIER_PAGE,
    TIER_TICKET,
    WINDOW_LABEL,
)
from sloalert.models import DEFAULT_RATE_WINDOW, DEFAULT_THRESHOLD_TIER, NoData, SLOAlert, Tier
from sloalert.promql import Selector, eq, number
from sloalert.sli import SLI, ExpressionSLI, absent, has_total, presence


@dataclass(frozen=True)
class RuleSet:
    groups: list[dict[str, Any]]  # Prometheus rule groups: name, interval?, rules
    recording: int
    alerting: int


@dataclass
class _Rules:
    rules: list[dict[str, Any]] = field(default_factory=list)

    def record(self, name: str, expr: str, labels: Mapping[str, str]) -> None:
        self.rules.append({"record": name, "expr": expr, "labels": dict(labels)})

    def alert(
        self,
        name: str,
        expr: str,
        hold: str | None,
        labels: Mapping[str, str],
        notes: Mapping[str, str],
    ) -> None:
        rule: dict[str, Any] = {"alert": name, "expr": expr}
        if hold:
            rule["for"] = hold
        rule["labels"] = dict(labels)
        rule["annotations"] = dict(notes)
        self.rules.append(rule)


def generate(slo: SLOAlert) -> RuleSet:
    """The rules for a loaded (validated) SLOAlert."""
    sli = indicators.build(slo.spec.indicator)
    rules = _Rules()
    groups = [{"name": conventions.group_name(slo), "rules": rules.rules}]
    if slo.spec.alerting.mode == "burnRate":
        _burn_rate(slo, sli, rules)
        budget_group = _budget_group(slo, sli)
        groups.append(budget_group)
        # Every 2m30s is often enough to remember that data existed.
        presence_rules = _Rules(budget_group["rules"])
    else:
        _threshold(slo, sli, rules)
        presence_rules = rules
    if (slo.spec.alerting.no_data or NoData()).enabled:
        _no_data(slo, sli, rules, _presence(slo, sli, presence_rules))
    every = [rule for group in groups for rule in group["rules"]]
    recording = sum(1 for rule in every if "record" in rule)
    return RuleSet(groups=groups, recording=recording, alerting=len(every) - recording)


def _burn_rate(slo: SLOAlert, sli: SLI, rules: _Rules) -> None:
    spec = slo.spec
    assert spec.objective is not None
    identity = conventions.identity_labels(slo)
    tiers = spec.alerting.enabled_tiers()
    for window in burnrate.windows(tiers):
        rules.record(
            conventions.error_ratio_record(window),
            sli.error_ratio(window),
            {**identity, WINDOW_LABEL: window},
        )
    min_rate = spec.alerting.min_rate
    error_budget = burnrate.budget(spec.objective)
    for tier in tiers:
        config = _tier_config(slo, tier)
        conditions = burnrate.conditions(tier, spec.window)
        rules.alert(
            _alert_name(slo),
            _moved_namespace(
                slo, sli, _burn_rate_expr(slo, tiers, conditions, error_budget, min_rate)
            ),
            config.for_,
            _labels(slo, tier, config.labels),
            {
                **alert_annotations.burn_rate(slo, tier, conditions),
                **_notes(slo, config.annotations),
            },
        )


def _budget_group(slo: SLOAlert, sli: SLI) -> dict[str, Any]:
    spec = slo.spec
    assert spec.objective is not None
    rules = _Rules()
    for recording in budget.recordings(
        spec.window,
        spec.objective,
        sli,
        spec.alerting.enabled_tiers(),
        conventions.identity_labels(slo),
        _own_series(slo),
    ):
        rules.record(recording.name, recording.expr, recording.labels)
    return {
        "name": conventions.budget_group_name(slo),
        "interval": conventions.BUDGET_GROUP_INTERVAL,
        "rules": rules.rules,
    }


def _burn_rate_expr(
    slo: SLOAlert,
    tiers: list[str],
    conditions: list[burnrate.Condition],
    error_budget: float,
    min_rate: float | None,
) -> str:
    """Fires with the highest burn rate among the window pairs that burn too fast.

    Each pair needs both windows over the factor; the recorded series differ only in the
    window label, which is ignored to join them and dropped from the alert so the alert keeps
    one identity whichever pair fires. The traffic guard (minRate) reads the budget group's
    events per second, averaged over the long window.
    """
    own = _own_series(slo)
    per_budget = number(error_budget)
    pairs = []
    for c in conditions:
        factor = number(c.factor)
        parts = [
            f"{_series(conventions.error_ratio_record(c.long), own)} / {per_budget} > {factor}",
            f"{_series(conventions.error_ratio_record(c.short), own)} / {per_budget} > {factor}",
        ]
        if min_rate is not None:
            parts.append(f"{budget.traffic(own, tiers, c.long)} >= {number(min_rate)}")
        joined = f"\n  and ignoring ({WINDOW_LABEL})\n  ".join(parts)
        pairs.append(f"(\n  {joined}\n)")
    body = "\nor\n".join(pairs)
    return f"max without ({WINDOW_LABEL}) (\n{_indent(body)}\n)"


def _threshold(slo: SLOAlert, sli: SLI, rules: _Rules) -> None:
    alerting = slo.spec.alerting
    value = sli.value(alerting.rate_window or DEFAULT_RATE_WINDOW)
    if alerting.above is not None:
        expr = f"(\n{_indent(value)}\n) > {number(alerting.above)}"
    else:
        assert alerting.below is not None
        expr = f"(\n{_indent(value)}\n) < {number(alerting.below)}"
    tier = alerting.tier or DEFAULT_THRESHOLD_TIER
    rules.alert(
        _alert_name(slo),
        _moved_namespace(slo, sli, expr),
        alerting.for_,
        _labels(slo, tier, {}),
        {**alert_annotations.threshold(slo, indicators.describe(slo.spec)), **_notes(slo, {})},
    )


def _presence(slo: SLOAlert, sli: SLI, rules: _Rules) -> Selector:
    """The recorded series that exists while the SLI's sources do, which the no-data alert
    reads over the SLO's window: an ungrouped ratio or latency SLO's events per second (one
    series, recorded anyway), else one recorded into `rules` for that alone."""
    own = _own_series(slo)
    spec = slo.spec
    if spec.alerting.mode == "burnRate" and has_total(sli) and not spec.indicator.group_by:
        short = budget.window(spec.alerting.enabled_tiers())
        return _series(conventions.total_rate_record(short), own)
    rules.record(conventions.PRESENCE_RECORD, presence(sli), conventions.identity_labels(slo))
    return _series(conventions.PRESENCE_RECORD, own)


def _moved_namespace(slo: SLOAlert, sli: SLI, expr: str) -> str:
    """`expr` with the `namespace` of its series moved to EXPORTED_NAMESPACE_LABEL, where the
    alert's own `namespace` label would otherwise replace it: series of two namespaces (an
    expression's `sum by (namespace)`, the `up` of targets in several) would become one
    label set, which Prometheus refuses to alert on. Ratio and latency SLIs keep no
    `namespace` (they sum it away; groupBy refuses it)."""
    if not slo.metadata.namespace or not isinstance(sli, ExpressionSLI):
        return expr
    return (
        f'label_replace(\n{_indent(expr)}\n, "{conventions.EXPORTED_NAMESPACE_LABEL}", "$1", '
        f'"{conventions.ALERT_NAMESPACE_LABEL}", "(.+)")'
    )


def _no_data(slo: SLOAlert, sli: SLI, rules: _Rules, present: Selector) -> None:
    config = slo.spec.alerting.no_data or NoData()
    rules.alert(
        _alert_name(slo) + conventions.NODATA_ALERT_SUFFIX,
        absent(sli, present, slo.spec.window),
        config.for_,
        _labels(slo, TIER_NODATA, config.labels),
        {
            **alert_annotations.no_data(slo, sli.sources, config.for_),
            **_notes(slo, config.annotations),
        },
    )


def _tier_config(slo: SLOAlert, tier: str) -> Tier:
    config = {TIER_PAGE: slo.spec.alerting.page, TIER_TICKET: slo.spec.alerting.ticket}[tier]
    return config or Tier()


def _alert_name(slo: SLOAlert) -> str:
    return slo.spec.alerting.name or conventions.default_alert_name(slo.metadata.name)


def _labels(slo: SLOAlert, tier: str, tier_labels: Mapping[str, str]) -> dict[str, str]:
    """Defaults, then the SLO's labels, then the tier's; sloalert's own labels come last, the
    SLOAlert's namespace among them (over any `namespace` label the expression's series carry),
    so an alert never speaks for another namespace."""
    own = {}
    if slo.metadata.namespace:
        own[conventions.ALERT_NAMESPACE_LABEL] = slo.metadata.namespace
    return {
        SEVERITY_LABEL: conventions.DEFAULT_SEVERITY[tier],
        conventions.ROUTING_SERVICE_LABEL: slo.spec.service,
        **slo.spec.labels,
        **tier_labels,
        **conventions.identity_labels(slo),
        **own,
        TIER_LABEL: tier,
    }


def _notes(slo: SLOAlert, tier_notes: Mapping[str, str]) -> dict[str, str]:
    return {**slo.spec.annotations, **tier_notes}


def _own_series(slo: SLOAlert) -> Selector:
    """The matchers that pick this SLO's recordings and no other SLO's.

    An SLO without a namespace records no namespace label; matching that label as "" keeps out
    a namespaced SLO of the same name (the operator's rules next to CLI-rendered ones), which
    `sloalert_slo` alone would also select, doubling its alerts.
    """
    return Selector(
        None,
        (
            eq(conventions.SLO_LABEL, slo.metadata.name),
            eq(conventions.NAMESPACE_LABEL, slo.metadata.namespace or ""),
        ),
    )


def _series(record: str, own: Selector) -> Selector:
    return Selector(record, own.matchers)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())
