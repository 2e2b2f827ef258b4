"""Prometheus instrumentation: request count, latency and in-progress, served at /metrics.

Each app gets its own registry, so building several apps in one process (tests, the
benchmark) neither collides nor silently drops metrics, which is what prometheus_client's
global registry does once a second app registers the same names.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fastdining_api.config import LATENCY_BUCKETS, Settings

# The instrumentator's label for requests that match no route.
UNMATCHED_HANDLER = "none"


class InProgressMiddleware:
    """Tracks `http_requests_inprogress{handler,method}` in the app's own registry.

    The instrumentator's in-progress gauge ignores the registry it is given and always
    registers in the global one (upstream trallnag/prometheus-fastapi-instrumentator#317), so
    it would be missing from our /metrics and would crash a second app in the same process.
    Handlers are named exactly as the instrumentator names them, with its own route lookup.
    """

    def __init__(self, app: ASGIApp, *, gauge: Gauge, excluded_handler: str) -> None:
        self.app = app
        self.gauge = gauge
        self.excluded_handler = excluded_handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = get_route_name(Request(scope), should_include_root_path=False)
        handler = route or UNMATCHED_HANDLER
        if handler == self.excluded_handler:
            await self.app(scope, receive, send)
            return
        in_progress = self.gauge.labels(handler=handler, method=scope["method"])
        in_progress.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            in_progress.dec()


def request_metrics(registry: CollectorRegistry) -> list[Callable[[metrics.Info], None]]:
    """The two request metrics the SLO presets read, and nothing else.

    Not metrics.default(): its request/response size summaries and unlabelled high-resolution
    histogram are read by no rule or dashboard, yet cost about 30% of the per-request
    overhead (bench/bench_fastapi_overhead.py). The seed's bug came from stacking the two:
    default() registers `http_request_duration_seconds` with buckets 0.1/0.5/1 first, and the
    later latency(buckets=...) hits "duplicated timeseries" and is silently dropped.
    """
    made = {
        "requests": metrics.requests(registry=registry),
        "latency": metrics.latency(
            buckets=LATENCY_BUCKETS, should_include_status=False, registry=registry
        ),
    }
    # The instrumentator returns None instead of raising when a name is already registered.
    missing = [name for name, instrumentation in made.items() if instrumentation is None]
    if missing:
        raise RuntimeError(f"request metrics already registered, not instrumented: {missing}")
    return [instrumentation for instrumentation in made.values() if instrumentation]


def instrument(app: FastAPI, settings: Settings) -> CollectorRegistry:
    """Add request metrics to `app`, serve them at `settings.metrics_path`; return the registry."""
    registry = CollectorRegistry()
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)
    Instrumentator(
        should_group_status_codes=True,
        should_ignore_untemplated=False,
        should_group_untemplated=True,
        excluded_handlers=[f"^{re.escape(settings.metrics_path)}$"],
        registry=registry,
    ).add(*request_metrics(registry)).instrument(app).expose(
        app, endpoint=settings.metrics_path, include_in_schema=False
    )
    gauge = Gauge(
        "http_requests_inprogress",
        "Number of HTTP requests in progress.",
        ("handler", "method"),
        registry=registry,
    )
    app.add_middleware(InProgressMiddleware, gauge=gauge, excluded_handler=settings.metrics_path)
    return registry
