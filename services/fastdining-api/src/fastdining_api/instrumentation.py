"""Prometheus instrumentation: request count, latency and in-progress, served at /metrics.

Each app gets its own registry, so building several apps in one process (tests, the
benchmark) neither collides nor silently drops metrics, which is what prometheus_client's
global registry does once a second app registers the same names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fastdining_api.config import LATENCY_BUCKETS, Settings

# The instrumentator's label for requests that match no route.
UNMATCHED_HANDLER = "none"


class RouteNames:
    """The route template of a request, as the instrumentator resolves it, remembered per path.

    Resolving walks every route of the app, about a fifth of the instrumentation's cost per
    request, and the answer for a method and path never changes while the app runs. Only
    matched paths are kept, at most `limit` of them, so a scan of random URLs cannot grow it:
    those are resolved each time, as without it.
    """

    def __init__(self, limit: int = 1024) -> None:
        self._limit = limit
        self._known: dict[tuple[str, str, str], str] = {}

    def route(self, scope: Scope) -> str | None:
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        known = self._known.get(key)
        if known is not None:
            return known
        route = get_route_name(Request(scope), should_include_root_path=False)
        if route is not None and len(self._known) < self._limit:
            self._known[key] = route
        return route

    def handler(self, scope: Scope) -> str:
        """The `handler` label: the route template, or the instrumentator's label for none."""
        return self.route(scope) or UNMATCHED_HANDLER


class RequestMetricsMiddleware(PrometheusInstrumentatorMiddleware):
    """The instrumentator's middleware, resolving routes through `RouteNames`: same labels,
    one route walk per distinct path instead of one per request."""

    def __init__(self, app: ASGIApp, *, route_names: RouteNames, **options: Any) -> None:
        super().__init__(app, **options)
        self.route_names = route_names

    def _get_handler(self, request: Request) -> tuple[str, bool]:
        # The upstream contract: (template, True), or (raw path, False) when nothing matched.
        route = self.route_names.route(request.scope)
        return (route, True) if route is not None else (request.url.path, False)


class InProgressMiddleware:
    """Tracks `http_requests_inprogress{handler,method}` in the app's own registry.

    The instrumentator's in-progress gauge ignores the registry it is given and always
    registers in the global one (upstream trallnag/prometheus-fastapi-instrumentator#317), so
    it would be missing from our /metrics and would crash a second app in the same process.
    Handlers are named exactly as the instrumentator names them, with its own route lookup.
    """

    def __init__(
        self, app: ASGIApp, *, gauge: Gauge, excluded_handler: str, route_names: RouteNames
    ) -> None:
        self.app = app
        self.gauge = gauge
        self.excluded_handler = excluded_handler
        self.route_names = route_names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = self.route_names.handler(scope)
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
    route_names = RouteNames()
    app.add_middleware(
        RequestMetricsMiddleware,
        route_names=route_names,
        should_group_status_codes=True,
        should_ignore_untemplated=False,
        should_group_untemplated=True,
        excluded_handlers=[f"^{re.escape(settings.metrics_path)}$"],
        instrumentations=request_metrics(registry),
        registry=registry,
    )
    Instrumentator(registry=registry).expose(
        app, endpoint=settings.metrics_path, include_in_schema=False
    )
    gauge = Gauge(
        "http_requests_inprogress",
        "Number of HTTP requests in progress.",
        ("handler", "method"),
        registry=registry,
    )
    app.add_middleware(
        InProgressMiddleware,
        gauge=gauge,
        excluded_handler=settings.metrics_path,
        route_names=route_names,
    )
    return registry
