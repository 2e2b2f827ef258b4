"""The request middleware labels requests exactly as django-prometheus' After middleware did,
and /metrics shows only the two request families it records (through Django's test client)."""

from __future__ import annotations

import pytest
from airestaurant.request_metrics import HTTP_METHODS, INVALID_METHOD, LATENCY, RESPONSES
from django.test import Client, RequestFactory
from django_prometheus.middleware import PrometheusAfterMiddleware
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sloalert.exporters import DJANGO_FAMILIES, DJANGO_METRICS_VIEW


def recorded(status: str, view: str, method: str) -> tuple:
    """The responses counter and the latency histogram's count for one label set."""
    count = REGISTRY.get_sample_value(
        f"{RESPONSES}_total", {"status": status, "view": view, "method": method}
    )
    observed = REGISTRY.get_sample_value(f"{LATENCY}_count", {"view": view, "method": method})
    return (count or 0.0, observed or 0.0)


@pytest.mark.parametrize(
    ("path", "status", "view"),
    [
        ("/ping", 200, "ping"),
        ("/no/such/path", 404, "<unnamed view>"),
        ("/healthzz", 404, "<unnamed view>"),  # excluded paths are exact, not prefixes
        ("/metrics/", 404, "<unnamed view>"),
        ("/boom/", 500, "boom"),
    ],
)
def test_each_request_is_counted_and_timed_once_with_the_librarys_labels(
    path: str, status: int, view: str
) -> None:
    before = recorded(str(status), view, "GET")
    assert Client().get(path).status_code == status
    assert recorded(str(status), view, "GET") == (before[0] + 1, before[1] + 1)


def test_an_unknown_method_is_normalised_on_both_families() -> None:
    before = recorded("405", "ping", "<invalid method>")
    assert Client().generic("BREW", "/ping").status_code == 405
    assert recorded("405", "ping", "<invalid method>") == (before[0] + 1, before[1] + 1)
    assert recorded("405", "ping", "BREW") == (0.0, 0.0)


@pytest.mark.parametrize("method", [*sorted(HTTP_METHODS), "BREW", "PROPFIND"])
def test_the_closed_set_of_methods_is_the_librarys(method: str) -> None:
    """The counter's labels stay django-prometheus' own (no series renamed); the histogram now
    takes the same closed set."""
    request = RequestFactory().generic(method, "/ping")
    ours = method if method in HTTP_METHODS else INVALID_METHOD
    # Unbound: constructing the middleware would register its metrics a second time.
    assert ours == PrometheusAfterMiddleware._method(None, request)


@pytest.mark.parametrize(
    ("path", "view"), [("/healthz", "healthz"), ("/metrics", DJANGO_METRICS_VIEW)]
)
def test_probes_and_scrapes_are_not_recorded(path: str, view: str) -> None:
    before = recorded("200", view, "GET")
    assert Client().get(path).status_code == 200
    assert recorded("200", view, "GET") == before == (0.0, 0.0)


def test_metrics_shows_only_the_two_request_families_the_rules_read() -> None:
    Client().get("/ping")
    page = Client().get("/metrics").content.decode()
    http_families = {
        family.name
        for family in text_string_to_metric_families(page)
        # The text format lists each `_created` timestamp as a family of its own.
        if family.name.startswith("django_http_") and not family.name.endswith("_created")
    }
    # The parser names a counter without its `_total`.
    read = {family.name.removesuffix("_total") for family in DJANGO_FAMILIES}
    assert http_families == {RESPONSES, LATENCY} <= read
