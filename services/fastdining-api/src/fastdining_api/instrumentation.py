"""Prometheus instrumentation: request count, latency and in-progress, served at /metrics.

Each app gets its own registry, so building several apps in one process (tests, the
benchmark) neither collides nor silently drops metrics, which is what prometheus_client's
global registry does once a second app registers the same names.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_fastapi_instrumentator import Instrumentator
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
    ).instrument(
        app,
        # The instrumentator's default instrumentation builds `http_request_duration_seconds`
        # from these; adding metrics.latency(buckets=...) instead would not replace them.
        latency_lowr_buckets=LATENCY_BUCKETS,
    ).expose(app, endpoint=settings.metrics_path, include_in_schema=False)
    gauge = Gauge(
        "http_requests_inprogress",
        "Number of HTTP requests in progress.",
        ("handler", "method"),
        registry=registry,
    )
    app.add_middleware(InProgressMiddleware, gauge=gauge, excluded_handler=settings.metrics_path)
    return registry
