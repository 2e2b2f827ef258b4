"""What every dashboard shares: the datasource and namespace variables, queries and thresholds.

Every query names the datasource through the `datasource` variable, so the dashboards work with
whatever Prometheus Grafana has (the umbrella provisions one with uid `prometheus`).
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import common, dashboard, prometheus, timeseries
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model
from sloalert.promql import Matcher

DATASOURCE_VARIABLE: Final = "datasource"
NAMESPACE_VARIABLE: Final = "namespace"
# "All" matches every value and no value: series scraped outside Kubernetes have no namespace.
ALL_VALUE: Final = ".*"
DATASOURCE: Final = model.DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")
# Grafana's own interval for rate(): at least four scrapes, whatever the zoom.
RATE_INTERVAL: Final = "$__rate_interval"

RED: Final = "red"
ORANGE: Final = "orange"
GREEN: Final = "green"


def namespace_matcher(label: str = "namespace") -> Matcher:
    """`namespace=~"$namespace"`: with All (`.*`) it also matches series without the label."""
    return Matcher(label, "=~", f"${NAMESPACE_VARIABLE}")


def datasource_variable() -> dashboard.DatasourceVariable:
    return (
        dashboard.DatasourceVariable(DATASOURCE_VARIABLE)
        .label("Data source")
        .type("prometheus")
        .description("The Prometheus every panel queries.")
    )


def namespace_variable(query: str, description: str) -> dashboard.QueryVariable:
    """A multi-value namespace picker whose "All" also matches series without the label."""
    return (
        dashboard.QueryVariable(NAMESPACE_VARIABLE)
        .label("Namespace")
        .description(description)
        .datasource(DATASOURCE)
        .query({"query": query, "refId": "namespaces"})
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(ALL_VALUE)
        .current(model.VariableOption(selected=True, text="All", value="$__all"))
    )


def query(expr: str, legend: str = "__auto", *, instant: bool = False) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)
    if instant:
        return target.instant().format(prometheus_model.PromQueryFormat.TABLE)
    return target.range()


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds; the first step's value is None (from minus infinity)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def above(limit: float) -> dashboard.ThresholdsConfig:
    """Green up to `limit`, red from it: an alert's threshold."""
    return thresholds((None, GREEN), (limit, RED))


def below(limit: float) -> dashboard.ThresholdsConfig:
    """Red below `limit`, green from it."""
    return thresholds((None, RED), (limit, GREEN))


def graph(title: str, description: str, unit: str, width: int = 12) -> timeseries.Panel:
    """A time series panel with its legend below, half the grid wide by default."""
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .legend(
            common.VizLegendOptions()
            .display_mode(common_model.LegendDisplayMode.LIST)
            .placement(common_model.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .height(8)
        .span(width)
    )


def dashed_thresholds(panel: timeseries.Panel) -> timeseries.Panel:
    """Draw the panel's thresholds as dashed lines (where its alert fires)."""
    return panel.thresholds_style(
        common.GraphThresholdsStyleConfig().mode(common_model.GraphThresholdsStyleMode.DASHED)
    )
