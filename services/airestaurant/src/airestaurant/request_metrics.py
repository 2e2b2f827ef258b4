"""Request metrics: the two families the SLO rules read, recorded by one middleware.

django-prometheus defines them (`django_prometheus.middleware.Metrics`: names, labels, buckets)
and serves /metrics; recording each request is ours. Its Before/After middlewares record 19
request families per request, each through `labels()`, and build `request.headers`: a third
of the instrumented site's time on `/ping` (README, "Instrumentation overhead"), for 17
families nothing here reads; those are not registered at all (`RecordedMetrics`).
The database and cache metrics are django-prometheus' backends, untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPMethod
from timeit import default_timer
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django_prometheus.middleware import Metrics
from prometheus_client import Counter, Histogram

# The families the rules, presets and dashboards read (sloalert.exporters.DJANGO_FAMILIES), as
# django-prometheus names them before the exposition's `_total`/`_bucket` suffixes.
RESPONSES = "django_http_responses_total_by_status_view_method"
LATENCY = "django_http_requests_latency_seconds_by_view_method"
# django-prometheus' labels for a request no URL pattern matched and for a method outside
# HTTP's (PrometheusAfterMiddleware._get_view_name and _method).
UNNAMED_VIEW = "<unnamed view>"
INVALID_METHOD = "<invalid method>"
# The library's own list is HTTP's nine methods, as the standard library lists them.
HTTP_METHODS = frozenset(method.value for method in HTTPMethod)


class RecordedMetrics(Metrics):
    """django-prometheus' request metrics, of which only the two we record are created.

    The other 17 are never constructed, so they are absent from /metrics rather than shown
    empty: an unlabelled counter would read 0 forever (in multiprocess mode too, where merely
    constructing one writes its sample), which looks like "no requests" instead of "not
    recorded". Their attributes are None.
    """

    _instance = None  # its own singleton, not the base class's (which would hold all 19)

    def register_metric(
        self,
        metric_cls: type[Counter | Histogram],
        name: str,
        documentation: str,
        labelnames: tuple[str, ...] | list[str] = (),
        **kwargs: Any,
    ) -> Counter | Histogram | None:
        if name not in (RESPONSES, LATENCY):
            return None
        return super().register_metric(metric_cls, name, documentation, labelnames, **kwargs)


def view_name(request: HttpRequest) -> str:
    """The `view` label: the URL pattern's view name, as django-prometheus resolves it."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name is None:
        return UNNAMED_VIEW
    return match.view_name


class RequestMetricsMiddleware:
    """Counts and times every request but those to `METRICS_EXCLUDED_PATHS` (the kubelet's
    probes and the scrape: user traffic only; django-prometheus has no such setting, so this
    is ours), labelled as django-prometheus' After middleware labels them: `status` the exact
    code, `view` the view name or `<unnamed view>`, and `method` normalised to
    `<invalid method>` outside HTTP's, on both families (the library takes the method as sent
    on the histogram: one made-up method there added a series per bucket).

    It must be the last middleware, where django-prometheus' After middleware was, so the
    latency covers URL resolution and the view, not the other middlewares. One difference:
    when a view raises, the library observes the latency twice (process_exception and
    process_response); this observes it once, for the 500 that is sent.

    Per request it spends a few dictionary lookups: each metric's labelled child is resolved
    once per distinct label set. The label sets are the metrics' own, so this cache grows no
    further than the metrics do.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        metrics = RecordedMetrics.get_instance()
        responses, latency = (
            metrics.responses_by_status_view_method,
            metrics.requests_latency_by_view_method,
        )
        # A django-prometheus that renamed either leaves it None: fail at start-up, not per request.
        if not isinstance(responses, Counter) or not isinstance(latency, Histogram):
            raise RuntimeError(f"django-prometheus does not define {RESPONSES} and {LATENCY}")
        self._responses = responses
        self._latency = latency
        self._excluded: frozenset[str] = settings.METRICS_EXCLUDED_PATHS
        self._series: dict[tuple[str, str], _Series] = {}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info in self._excluded:
            return self.get_response(request)
        started = default_timer()
        response = self.get_response(request)
        duration = default_timer() - started
        view = view_name(request)
        method = request.method if request.method in HTTP_METHODS else INVALID_METHOD
        series = self._series.get((view, method)) or self._new_series(view, method)
        series.responses(response.status_code).inc()
        series.latency.observe(duration)
        return response

    def _new_series(self, view: str, method: str) -> _Series:
        # By name: a label the library named differently fails here, at once.
        made = _Series(
            view, method, self._responses, self._latency.labels(view=view, method=method)
        )
        self._series[(view, method)] = made
        return made


class _Series:
    """One view and method's labelled children, resolved once for all its requests."""

    def __init__(self, view: str, method: str, responses: Counter, latency: Histogram) -> None:
        self._view = view
        self._method = method
        self._responses = responses
        self.latency = latency
        self._by_status: dict[int, Counter] = {}

    def responses(self, status: int) -> Counter:
        """The responses counter's child for an answer's status code."""
        child = self._by_status.get(status)
        if child is None:
            child = self._responses.labels(status=str(status), view=self._view, method=self._method)
            self._by_status[status] = child
        return child
