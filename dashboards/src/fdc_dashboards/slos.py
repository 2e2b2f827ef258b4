"""SLOs: one row per SLOAlert (repeated over the `slo` variable), read from the series the rule
generator records for every burn-rate SLO, so the dashboard needs no SLO's spec. A grouped SLO
(indicator.groupBy) has its series per group, told apart by `sloalert_group`: the `group`
variable picks groups, and the legends name them.

Per SLO: its objective, the SLI now and over the whole window, the error budget left, the burn
rate over the tiers' windows against their factors, the budget's burn-down, and its alerts
firing now.
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import common, dashboard, stat, table, timeseries
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model
from sloalert import burnrate, conventions
from sloalert.conventions import GROUP_LABEL, NAMESPACE_LABEL, SLO_LABEL
from sloalert.promql import Matcher, Selector, eq

from fdc_dashboards import panels

UID: Final = "fdc-slos"
SLO_VARIABLE: Final = "slo"
GROUP_VARIABLE: Final = "group"
# The windows the burn-rate panel shows: each tier pair's long window, and the page's 5m.
BURN_WINDOWS: Final = ("5m", "1h", "6h", "1d", "3d")
# The factors are those of a 30-day SLO, the default window (other windows scale them).
DEFAULT_WINDOW: Final = "30d"
COLORS: Final = ("yellow", "orange", "red", "dark-red")

_OWN: Final = (
    Matcher(SLO_LABEL, "=~", f"${SLO_VARIABLE}"),
    panels.namespace_matcher(NAMESPACE_LABEL),
)
# Series recorded per group; All (`.*`) also matches an ungrouped SLO's, which lack the label.
_GROUPED: Final = (*_OWN, Matcher(GROUP_LABEL, "=~", f"${GROUP_VARIABLE}"))
LEGEND: Final = f"{{{{{NAMESPACE_LABEL}}}}} {{{{{SLO_LABEL}}}}} {{{{{GROUP_LABEL}}}}}"


def series(record: str) -> Selector:
    """One of the SLO-wide series (objective, error budget): the same for every group."""
    return Selector(record, _OWN)


def per_group(record: str) -> Selector:
    """One of the series recorded per group (the SLI, the budget left)."""
    return Selector(record, _GROUPED)


def burn_factors() -> list[float]:
    """Every tier's factors for the default window, smallest first (1, 3, 6, 14.4)."""
    return sorted(
        {c.factor for tier in burnrate.TIERS for c in burnrate.conditions(tier, DEFAULT_WINDOW)}
    )


def _stat(title: str, description: str, expr: str, unit: str = "percentunit") -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .decimals(2)
        .graph_mode(common_model.BigValueGraphMode.NONE)
        .color_mode(common_model.BigValueColorMode.VALUE)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))
        .with_target(panels.query(expr, LEGEND).ref_id("A"))
        .height(5)
        .span(6)
    )


def objective() -> stat.Panel:
    return _stat(
        "Objective",
        "The share of good events the SLO promises over its window "
        f"({conventions.OBJECTIVE_RECORD}).",
        str(series(conventions.OBJECTIVE_RECORD)),
    ).thresholds(panels.thresholds((None, "blue")))


def sli_now() -> stat.Panel:
    ratio = per_group(conventions.error_ratio_record("5m"))
    return _stat(
        "SLI now (5m)",
        f"Good events over the last 5 minutes: 1 - {ratio.metric}. No value: no traffic.",
        f"1 - {ratio}",
    ).thresholds(panels.thresholds((None, "blue")))


def sli_window() -> stat.Panel:
    whole = per_group(conventions.WINDOW_ERROR_RATIO_RECORD)
    return _stat(
        "SLI over the window",
        "Good events over the SLO's whole window (30d by default), weighted by traffic: "
        f"1 - {whole.metric}.",
        f"1 - {whole}",
    ).thresholds(panels.thresholds((None, "blue")))


def budget_left() -> stat.Panel:
    return _stat(
        "Error budget left",
        "The share of the window's error budget not yet spent "
        f"({conventions.BUDGET_REMAINING_RECORD}); below 0 the SLO is broken.",
        str(per_group(conventions.BUDGET_REMAINING_RECORD)),
    ).thresholds(panels.thresholds((None, panels.RED), (0, panels.ORANGE), (0.25, panels.GREEN)))


def burn_rate() -> timeseries.Panel:
    budget = series(conventions.ERROR_BUDGET_RECORD)
    factors = burn_factors()
    panel = panels.dashed_thresholds(
        panels.graph(
            "Burn rate",
            "How many times faster than sustainable the error budget burns, over each window: "
            "the bad-event ratio over the error budget. The dashed lines are the tiers' factors "
            f"for a {DEFAULT_WINDOW} SLO: page at {factors[-1]:g}x over 1h or "
            f"{factors[-2]:g}x over 6h, ticket at {factors[1]:g}x over 1d or "
            f"{factors[0]:g}x over 3d (each with its short window).",
            "x",
        ).thresholds(panels.thresholds((None, panels.GREEN), *zip(factors, COLORS, strict=True)))
    )
    for ref, window in zip("ABCDE", BURN_WINDOWS, strict=True):
        ratio = per_group(conventions.error_ratio_record(window))
        # group_left: a grouped SLO has one ratio per group and one budget for them all.
        expr = f"{ratio}\n/ on ({SLO_LABEL}, {NAMESPACE_LABEL}) group_left\n{budget}"
        legend = f"{window} {{{{{GROUP_LABEL}}}}}"
        panel = panel.with_target(panels.query(expr, legend).ref_id(ref))
    return panel


def burn_down() -> timeseries.Panel:
    remaining = str(per_group(conventions.BUDGET_REMAINING_RECORD))
    return (
        panels.graph(
            "Error budget left over time",
            "The budget's burn-down: the share of the window's error budget left at each moment "
            f"({conventions.BUDGET_REMAINING_RECORD}, recorded every "
            f"{conventions.BUDGET_GROUP_INTERVAL}).",
            "percentunit",
        )
        .thresholds(panels.thresholds((None, panels.RED), (0, panels.GREEN)))
        .with_target(panels.query(remaining, f"budget left {{{{{GROUP_LABEL}}}}}").ref_id("A"))
    )


def alerts_firing() -> table.Panel:
    # A grouped SLO's no-data alert is about all its groups and has no sloalert_group: the
    # empty alternative keeps it (and other SLO-wide alerts) in view when a group is picked.
    anyone = Matcher(GROUP_LABEL, "=~", f"${GROUP_VARIABLE}|")
    firing = Selector("ALERTS", (eq("alertstate", "firing"), *_OWN, anyone))
    return (
        table.Panel()
        .title("Alerts firing now")
        .description(
            "This SLO's alerts firing now (Prometheus' ALERTS series, by sloalert_slo): the page, "
            "the ticket and the no-data alert. Empty while none fires."
        )
        .with_target(panels.query(str(firing), instant=True).ref_id("A"))
        .with_transformation(
            model.DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True, "Value": True, "__name__": True},
                    "indexByName": {"alertname": 0, conventions.TIER_LABEL: 1, "severity": 2},
                },
            )
        )
        .height(6)
        .span(24)
    )


def build() -> dashboard.Dashboard:
    return (
        dashboard.Dashboard("SLOs")
        .uid(UID)
        .description(
            "Every SLOAlert's objective, error budget and burn rate, from the series sloalert "
            "records for burn-rate SLOs."
        )
        .tags(["fastdining", "slo"])
        .time("now-7d", "now")
        .refresh("1m")
        .with_variable(panels.datasource_variable())
        .with_variable(
            panels.namespace_variable(
                f"label_values({conventions.OBJECTIVE_RECORD}, {NAMESPACE_LABEL})",
                "The SLOAlerts' namespace; All also matches SLOs rendered without one.",
            )
        )
        .with_variable(
            dashboard.QueryVariable(SLO_VARIABLE)
            .label("SLO")
            .description("SLOAlerts in burn-rate mode, by name; each gets a row.")
            .datasource(panels.DATASOURCE)
            .query(
                {
                    "query": f"label_values({conventions.OBJECTIVE_RECORD}, {SLO_LABEL})",
                    "refId": "slos",
                }
            )
            .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(model.VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .current(model.VariableOption(selected=True, text="All", value="$__all"))
        )
        .with_variable(
            dashboard.QueryVariable(GROUP_VARIABLE)
            .label("Group")
            .description(
                "Groups of SLOs with indicator.groupBy (sloalert_group, e.g. handler=/menu); "
                "All also shows SLOs without groups."
            )
            .datasource(panels.DATASOURCE)
            .query(
                {
                    "query": f"label_values({conventions.BUDGET_REMAINING_RECORD}"
                    f'{{{SLO_LABEL}=~"${SLO_VARIABLE}"}}, {GROUP_LABEL})',
                    "refId": "groups",
                }
            )
            .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(model.VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(panels.ALL_VALUE)
            .current(model.VariableOption(selected=True, text="All", value="$__all"))
        )
        .with_row(dashboard.Row(f"SLO ${SLO_VARIABLE}").repeat(SLO_VARIABLE))
        .with_panel(objective())
        .with_panel(sli_now())
        .with_panel(sli_window())
        .with_panel(budget_left())
        .with_panel(burn_rate())
        .with_panel(burn_down())
        .with_panel(alerts_firing())
    )
