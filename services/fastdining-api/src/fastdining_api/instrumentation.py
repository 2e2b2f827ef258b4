"""Prometheus instrumentation: request count, latency and in-progress, served at /metrics.

prometheus-fastapi-instrumentator names and defines the request metrics (`metrics.requests`,
`metrics.latency`), resolves the `handler` label (`routing.get_route_name`) and serves
/metrics (`Instrumentator.expose`). Recording each request is ours, in one middleware: the
instrumentator's own middleware spends more per request than the app does on /ping (the
profile and the upstream fix are in the README, "Instrumentation overhead").

Each app gets its own registry, so building several apps in one process (tests, the
benchmark) neither collides nor silently drops metrics, which is what prometheus_client's
global registry does once a second app registers the same names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from timeit import default_timer
from typing import NamedTuple

from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fastdining_api.config import HTTP_METHODS, LATENCY_BUCKETS, OTHER_METHOD, Settings

# The instrumentator's label for requests that match no route.
UNMATCHED_HANDLER = "none"


class AppRegistry(CollectorRegistry):
    """The app's own registry, which also tells which collectors a call registered in it: the
    instrumentator defines the request metrics but hands back only closures over them."""

    def __init__(self) -> None:
        super().__init__()
        self._registered: list[Collector] = []

    def register(self, collector: Collector) -> None:
        super().register(collector)
        self._registered.append(collector)

    def registered_by(self, make: Callable[[], object]) -> list[Collector]:
        before = len(self._registered)
        make()
        return self._registered[before:]


class RequestMetrics(NamedTuple):
    """The two request metrics the SLO presets read, as the instrumentator defines them."""

    requests: Counter  # http_requests_total{handler,method,status}
    latency: Histogram  # http_request_duration_seconds{handler,method}


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


class RequestMetricsMiddleware:
    """Records every request but those of the excluded handlers (the probes' and the metrics
    endpoint's: user traffic only), in one ASGI layer: in progress, then counted and timed,
    labelled as the instrumentator's middleware labels them (`handler` the route template or
    `none`, `status` grouped to `2xx`, 500 when the app raised), and `method` one of HTTP's or
    `other`, so that no label takes a value of the client's choosing.

    Which handlers are left out is the instrumentator's own mechanism, `excluded_handlers`
    (patterns searched in the handler), decided once per handler.

    Per request it spends a few dictionary lookups: the route template (`RouteNames`) and each
    metric's labelled child are resolved once per distinct label set, not per request. The
    label sets are the metrics' own, so these caches grow no further than the metrics do.

    The in-progress gauge is ours because the instrumentator's ignores the registry it is
    given and always registers in the global one (upstream
    trallnag/prometheus-fastapi-instrumentator#317): it would be missing from our /metrics and
    would crash a second app in the same process.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        request_metrics: RequestMetrics,
        in_progress: Gauge,
        instrumentator: Instrumentator,
        route_names: RouteNames,
    ) -> None:
        self.app = app
        self.route_names = route_names
        self._excluded_patterns = instrumentator.excluded_handlers
        self._excluded: dict[str, bool] = {}
        self._metrics = request_metrics
        self._in_progress = in_progress
        self._series: dict[tuple[str, str], _Series] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = self.route_names.handler(scope)
        if self._is_excluded(handler):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in HTTP_METHODS:
            method = OTHER_METHOD
        series = self._series.get((handler, method)) or self._new_series(handler, method)
        status = 500  # what the client gets when the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = default_timer()
        series.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            duration = max(default_timer() - started, 0.0)
            series.in_progress.dec()
            series.requests(status).inc()
            series.latency.observe(duration)

    def _is_excluded(self, handler: str) -> bool:
        # Handlers are route templates or `none`: a bounded set, so the answers are kept.
        excluded = self._excluded.get(handler)
        if excluded is None:
            excluded = any(pattern.search(handler) for pattern in self._excluded_patterns)
            self._excluded[handler] = excluded
        return excluded

    def _new_series(self, handler: str, method: str) -> _Series:
        # By name: a label the instrumentator named differently fails here, at once.
        made = _Series(
            handler,
            method,
            self._metrics.requests,
            self._in_progress.labels(handler=handler, method=method),
            self._metrics.latency.labels(handler=handler, method=method),
        )
        self._series[(handler, method)] = made
        return made


class _Series:
    """One handler and method's labelled children, resolved once for all its requests."""

    def __init__(
        self, handler: str, method: str, requests: Counter, in_progress: Gauge, latency: Histogram
    ) -> None:
        self._handler = handler
        self._method = method
        self._requests = requests
        self.in_progress = in_progress
        self.latency = latency
        self._by_status: dict[int, Counter] = {}

    def requests(self, status: int) -> Counter:
        """The `http_requests_total` child of an answer's status, grouped (`2xx`)."""
        child = self._by_status.get(status)
        if child is None:
            grouped = f"{str(status)[0]}xx"
            child = self._requests.labels(
                handler=self._handler, method=self._method, status=grouped
            )
            self._by_status[status] = child
        return child


def request_metrics(registry: AppRegistry) -> RequestMetrics:
    """The two request metrics the SLO presets read, and nothing else, in `registry`.

    Not metrics.default(): its request/response size summaries and unlabelled high-resolution
    histogram are read by no rule or dashboard. The seed's bug came from stacking the two:
    default() registers `http_request_duration_seconds` with buckets 0.1/0.5/1 first, and the
    later latency(buckets=...) hits "duplicated timeseries" and is silently dropped.
    """
    made = {
        "requests": registry.registered_by(lambda: metrics.requests(registry=registry)),
        "latency": registry.registered_by(
            lambda: metrics.latency(
                buckets=LATENCY_BUCKETS, should_include_status=False, registry=registry
            )
        ),
    }
    # The instrumentator returns None instead of raising when a name is already registered.
    missing = [name for name, collectors in made.items() if not collectors]
    if missing:
        raise RuntimeError(f"request metrics already registered, not instrumented: {missing}")
    [requests], [latency] = made["requests"], made["latency"]
    if not isinstance(requests, Counter) or not isinstance(latency, Histogram):
        raise TypeError(f"unexpected request metrics: {requests!r}, {latency!r}")
    return RequestMetrics(requests, latency)


def instrument(app: FastAPI, settings: Settings) -> CollectorRegistry:
    """Add request metrics to `app`, serve them at `settings.metrics_path`; return the registry."""
    registry = AppRegistry()
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)
    # Exact paths, as the instrumentator's patterns: "/healthz" must not also leave out a
    # "/healthz-report" route. The metrics endpoint is always left out, wherever it is.
    excluded = dict.fromkeys((*settings.metrics_excluded_paths, settings.metrics_path))
    instrumentator = Instrumentator(
        registry=registry, excluded_handlers=[f"^{re.escape(path)}$" for path in excluded]
    )
    instrumentator.expose(app, endpoint=settings.metrics_path, include_in_schema=False)
    in_progress = Gauge(
        "http_requests_inprogress",
        "Number of HTTP requests in progress.",
        ("handler", "method"),
        registry=registry,
    )
    app.add_middleware(
        RequestMetricsMiddleware,
        request_metrics=request_metrics(registry),
        in_progress=in_progress,
        instrumentator=instrumentator,
        route_names=RouteNames(),
    )
    return registry
