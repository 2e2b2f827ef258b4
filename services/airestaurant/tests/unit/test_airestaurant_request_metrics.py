"""The request middleware labels requests exactly as django-prometheus' After middleware did,
and /metrics shows only the two request families it records (through Django's test client)."""

from __future__ import annotations

import pytest
from airestaurant.request_metrics import LATENCY, RESPONSES
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sloalert.exporters import DJANGO_FAMILIES, DJANGO_METRICS_VIEW


def recorded(status: str, view: str, method: str, latency_method: str | None = None) -> tuple:
    """The responses counter and the latency histogram's count for one label set."""
    count = REGISTRY.get_sample_value(
        f"{RESPONSES}_total", {"status": status, "view": view, "method": method}
    )
    observed = REGISTRY.get_sample_value(
        f"{LATENCY}_count", {"view": view, "method": latency_method or method}
    )
    return (count or 0.0, observed or 0.0)


@pytest.mark.parametrize(
    ("path", "status", "view"),
    [
        ("/ping", 200, "ping"),
        ("/no/such/path", 404, "<unnamed view>"),
        ("/boom/", 500, "boom"),
        # Not excluded, as before: the rules leave it out by this view name.
        ("/metrics", 200, DJANGO_METRICS_VIEW),
    ],
)
def test_each_request_is_counted_and_timed_once_with_the_librarys_labels(
    path: str, status: int, view: str
) -> None:
    before = recorded(str(status), view, "GET")
    assert Client().get(path).status_code == status
    assert recorded(str(status), view, "GET") == (before[0] + 1, before[1] + 1)


def test_an_unknown_method_is_normalised_on_the_counter_only_as_the_library_does() -> None:
    before = recorded("405", "ping", "<invalid method>", latency_method="BREW")
    assert Client().generic("BREW", "/ping").status_code == 405
    after = recorded("405", "ping", "<invalid method>", latency_method="BREW")
    assert after == (before[0] + 1, before[1] + 1)


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
