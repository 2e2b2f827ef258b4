"""FastDining services: traffic, latency and errors of both apps, and their nodes' CPU and memory.

The seed's six panels, from the metrics the apps really export (`sloalert.exporters`). FastAPI
and Django export different families, so traffic is two queries in one panel, as the seed
advises; the 5xx ratio adds both apps up. Thresholds sit at the alerts' values (`alerts`).
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard, timeseries
from grafana_foundation_sdk.models import dashboard as model
from sloalert import exporters
from sloalert.promql import Matcher, Selector, eq

from fdc_dashboards import alerts, panels
from fdc_dashboards.panels import RATE_INTERVAL

UID: Final = "fdc-services"
FASTAPI_JOB: Final = "fastapi"  # the charts' serviceMonitor.job defaults, read by the presets
DJANGO_JOB: Final = "django"
# The instrumentator's label for the app's own /metrics route, and django-prometheus' view.
FASTAPI_METRICS_HANDLER: Final = "/metrics"

_NAMESPACE: Final = panels.namespace_matcher()


def _fastapi(family: exporters.Family, metric: str | None = None, *more: Matcher) -> Selector:
    return Selector(metric or family.name, (eq("job", FASTAPI_JOB), _NAMESPACE, *more))


def _django(family: exporters.Family, metric: str | None = None, *more: Matcher) -> Selector:
    not_metrics = Matcher("view", "!=", exporters.DJANGO_METRICS_VIEW)
    return Selector(metric or family.name, (eq("job", DJANGO_JOB), _NAMESPACE, not_metrics, *more))


def _rate(selector: Selector) -> str:
    return f"rate({selector.over(RATE_INTERVAL)})"


NOT_METRICS_ROUTE: Final = Matcher("handler", "!=", FASTAPI_METRICS_HANDLER)
FASTAPI_TOTAL: Final = _fastapi(exporters.FASTAPI_REQUESTS, None, NOT_METRICS_ROUTE)
FASTAPI_5XX: Final = FASTAPI_TOTAL.where(eq("status", "5xx"))  # grouped status codes
DJANGO_TOTAL: Final = _django(exporters.DJANGO_RESPONSES)
DJANGO_5XX: Final = DJANGO_TOTAL.where(Matcher("status", "=~", "5.."))  # exact status codes


def requests_per_second() -> timeseries.Panel:
    return (
        panels.graph(
            "Requests per second by service",
            "User requests served per second (the apps leave their probes and scrapes out): "
            "FastAPI (http_requests_total) and Django "
            "(django_http_responses_total_by_status_view_method_total), one query each since "
            "the apps export different families, and their total.",
            "reqps",
        )
        .with_target(panels.query(f"sum({_rate(FASTAPI_TOTAL)})", "FastAPI").ref_id("A"))
        .with_target(panels.query(f"sum({_rate(DJANGO_TOTAL)})", "Django").ref_id("B"))
        .with_target(
            panels.query(f"{_or_zero(FASTAPI_TOTAL)}\n+\n{_or_zero(DJANGO_TOTAL)}", "Total").ref_id(
                "C"
            )
        )
    )


def _p95(bucket: Selector, by: str) -> str:
    return f"histogram_quantile(0.95, sum by (le, {by}) ({_rate(bucket)}))"


FASTAPI_BUCKET: Final = _fastapi(
    exporters.FASTAPI_LATENCY, exporters.FASTAPI_LATENCY.bucket, NOT_METRICS_ROUTE
)


def fastapi_overall_latency() -> timeseries.Panel:
    return panels.dashed_thresholds(
        panels.graph(
            "FastAPI p95 latency, all requests",
            "95th percentile of every FastAPI request's http_request_duration_seconds, "
            "estimated from the histogram's buckets: what the Grafana alert FastAPI p95 > "
            f"{alerts.FASTAPI_P95_SECONDS:g}s reads. The dashed line is its threshold.",
            "s",
        )
        .thresholds(panels.above(alerts.FASTAPI_P95_SECONDS))
        .with_target(
            panels.query(
                f"histogram_quantile(0.95, sum by (le) ({_rate(FASTAPI_BUCKET)}))", "p95"
            ).ref_id("A")
        )
    )


def fastapi_latency() -> timeseries.Panel:
    # No threshold line: the alert's applies to the overall p95 (the panel above), and one
    # slow, rarely used route above it alerts nobody.
    return panels.graph(
        "FastAPI p95 latency by handler",
        "95th percentile of http_request_duration_seconds per route, estimated from the "
        "histogram's buckets: which route makes the overall p95.",
        "s",
    ).with_target(panels.query(_p95(FASTAPI_BUCKET, "handler"), "{{handler}}").ref_id("A"))


def django_latency() -> timeseries.Panel:
    bucket = _django(exporters.DJANGO_LATENCY, exporters.DJANGO_LATENCY.bucket)
    return panels.graph(
        "Django p95 latency by view",
        "95th percentile of django_http_requests_latency_seconds_by_view_method per view, "
        "estimated from the histogram's buckets.",
        "s",
    ).with_target(panels.query(_p95(bucket, "view"), "{{view}}").ref_id("A"))


def _or_zero(selector: Selector) -> str:
    # An app without traffic (or without a 5xx yet) counts as 0 instead of hiding the other.
    return f"(sum({_rate(selector)}) or vector(0))"


def error_ratio_expr() -> str:
    errors = f"{_or_zero(FASTAPI_5XX)}\n+\n{_or_zero(DJANGO_5XX)}"
    total = f"{_or_zero(FASTAPI_TOTAL)}\n+\n{_or_zero(DJANGO_TOTAL)}"
    return f"(\n{errors}\n)\n/\n(\n{total}\n> 0\n)"


def error_ratio() -> timeseries.Panel:
    return panels.dashed_thresholds(
        panels.graph(
            "5xx error ratio (FastAPI and Django together)",
            "Requests answered 5xx over all requests, both apps added up. The dashed line is the "
            f"High 5xx Error Rate alert's {alerts.ERROR_RATIO:.0%}. No line: no traffic at all.",
            "percentunit",
        )
        .thresholds(panels.above(alerts.ERROR_RATIO))
        .with_target(panels.query(error_ratio_expr(), "5xx ratio").ref_id("A"))
    )


def in_progress() -> timeseries.Panel:
    gauge = _fastapi(exporters.FASTAPI_INPROGRESS)
    return panels.graph(
        "FastAPI requests in progress",
        "Requests FastAPI is serving right now (http_requests_inprogress), per route.",
        "short",
    ).with_target(panels.query(f"sum by (handler) ({gauge})", "{{handler}}").ref_id("A"))


def cpu() -> timeseries.Panel:
    idle = Selector(exporters.NODE_CPU.name, (eq("mode", "idle"),))
    return panels.dashed_thresholds(
        panels.graph(
            "CPU busy per node",
            "Share of CPU time not idle, averaged over each node's CPUs (node_cpu_seconds_total "
            "from node-exporter). Nodes belong to no namespace, so the namespace picker does not "
            f"apply. The dashed line is the HighCPUUsage alert's {alerts.CPU_BUSY:.0%}.",
            "percentunit",
        )
        .thresholds(panels.above(alerts.CPU_BUSY))
        .min(0)
        .max(1)
        .with_target(
            panels.query(
                f"1 - avg by (instance) (rate({idle.over(RATE_INTERVAL)}))", "{{instance}}"
            ).ref_id("A")
        )
    )


def memory() -> timeseries.Panel:
    available = exporters.NODE_MEMORY_AVAILABLE.name
    total = exporters.NODE_MEMORY_TOTAL.name
    return (
        panels.graph(
            "Available memory per node",
            f"Memory available to new work ({available}) on each node, and the share of it in "
            f"{total} on the right: the LowMemory alert fires below "
            f"{alerts.MEMORY_AVAILABLE:.0%}. Nodes belong to no namespace.",
            "bytes",
        )
        .with_target(panels.query(available, "{{instance}} available").ref_id("A"))
        .override_by_query(
            "B",
            [
                model.DynamicConfigValue(id_val="unit", value="percentunit"),
                model.DynamicConfigValue(id_val="custom.axisPlacement", value="right"),
            ],
        )
        .with_target(
            panels.query(f"{available} / {total}", "{{instance}} share available").ref_id("B")
        )
    )


def build() -> dashboard.Dashboard:
    builder = (
        dashboard.Dashboard("FastDining services")
        .uid(UID)
        .description("Traffic, latency and errors of the FastDining apps, and their nodes.")
        .tags(["fastdining"])
        .time("now-6h", "now")
        .refresh("30s")
        .with_variable(panels.datasource_variable())
        .with_variable(
            panels.namespace_variable(
                f"label_values({exporters.UP.name}, namespace)",
                "The apps' namespace; All also matches series without a namespace label.",
            )
        )
        .with_row(dashboard.Row("Requests"))
        .with_panel(requests_per_second())
        .with_panel(error_ratio())
        .with_panel(fastapi_overall_latency())
        .with_panel(fastapi_latency())
        .with_panel(django_latency())
        .with_panel(in_progress())
        .with_row(dashboard.Row("Nodes"))
        .with_panel(cpu())
        .with_panel(memory())
    )
    return builder
