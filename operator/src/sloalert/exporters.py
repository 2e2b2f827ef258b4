"""What the exporters really emit: the one list of metric names, labels and buckets.

Presets, dashboards and alert rules build their PromQL from these names, and the services'
tests scrape the running apps and assert every family here exists with these labels and
buckets. A renamed metric or a changed bucket then breaks a test, not production.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """One metric family as scraped: `name` is the sample name (counters end in `_total`)."""

    name: str
    kind: str  # "counter", "gauge" or "histogram"
    labels: tuple[str, ...] = ()
    # Histogram bucket upper bounds, without +Inf; empty for other kinds.
    buckets: tuple[float, ...] = ()

    @property
    def bucket(self) -> str:
        """The `_bucket` series of a histogram."""
        if self.kind != "histogram":
            raise ValueError(f"{self.name} is a {self.kind}, not a histogram")
        return f"{self.name}_bucket"

    @property
    def count(self) -> str:
        """The `_count` series of a histogram."""
        if self.kind != "histogram":
            raise ValueError(f"{self.name} is a {self.kind}, not a histogram")
        return f"{self.name}_count"


# Latency buckets the FastAPI app configures. 0.5 s and 1.5 s are the seed's thresholds, so they
# must be bucket boundaries; the instrumentator's own default (0.1, 0.5, 1) is too coarse.
FASTAPI_LATENCY_BUCKETS: tuple[float, ...] = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    1.5,
    2.0,
    5.0,
    10.0,
)
# django-prometheus uses one bucket list for HTTP and DB latency (PROMETHEUS_LATENCY_BUCKETS);
# 0.2 s is the seed's DB threshold, 0.5 s and 1.5 s its HTTP ones.
DJANGO_LATENCY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.2,
    0.25,
    0.5,
    1.0,
    1.5,
    2.0,
    2.5,
    5.0,
    10.0,
)

# prometheus-fastapi-instrumentator 8.x; the status label is grouped ("2xx", "4xx", "5xx").
FASTAPI_REQUESTS = Family("http_requests_total", "counter", ("handler", "method", "status"))
FASTAPI_LATENCY = Family(
    "http_request_duration_seconds", "histogram", ("handler", "method"), FASTAPI_LATENCY_BUCKETS
)
FASTAPI_INPROGRESS = Family("http_requests_inprogress", "gauge", ("handler", "method"))
# The instrumentator labels requests to unknown routes with this handler.
FASTAPI_UNMATCHED_HANDLER = "none"

# django-prometheus 2.5; status is the exact code ("200", "500").
DJANGO_RESPONSES = Family(
    "django_http_responses_total_by_status_view_method_total",
    "counter",
    ("status", "view", "method"),
)
DJANGO_LATENCY = Family(
    "django_http_requests_latency_seconds_by_view_method",
    "histogram",
    ("view", "method"),
    DJANGO_LATENCY_BUCKETS,
)
DJANGO_DB_LATENCY = Family(
    "django_db_query_duration_seconds", "histogram", ("alias", "vendor"), DJANGO_LATENCY_BUCKETS
)
DJANGO_DB_ERRORS = Family("django_db_errors_total", "counter", ("alias", "vendor", "type"))
# The view name django-prometheus gives its own /metrics endpoint: excluded from SLIs.
DJANGO_METRICS_VIEW = "prometheus-django-metrics"

# node-exporter
NODE_CPU = Family("node_cpu_seconds_total", "counter", ("cpu", "mode"))
NODE_MEMORY_AVAILABLE = Family("node_memory_MemAvailable_bytes", "gauge")
NODE_MEMORY_TOTAL = Family("node_memory_MemTotal_bytes", "gauge")

# Prometheus itself, per scrape target.
UP = Family("up", "gauge", ("job", "instance"))

FASTAPI_FAMILIES = (FASTAPI_REQUESTS, FASTAPI_LATENCY, FASTAPI_INPROGRESS)
DJANGO_FAMILIES = (DJANGO_RESPONSES, DJANGO_LATENCY, DJANGO_DB_LATENCY)
NODE_FAMILIES = (NODE_CPU, NODE_MEMORY_AVAILABLE, NODE_MEMORY_TOTAL)
