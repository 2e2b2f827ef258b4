"""testkit.scrape against expositions written by prometheus_client itself."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sloalert.exporters import Family
from testkit.scrape import assert_family, family_problems, find_metric, parse, total

REQUESTS = Family("app_requests_total", "counter", ("handler", "status"))
LATENCY = Family("app_latency_seconds", "histogram", ("handler",), (0.5, 1.5))
INPROGRESS = Family("app_inprogress", "gauge", ("handler",))


def exposition(*, buckets: tuple[float, ...] = (0.5, 1.5), latency_labels=("handler",)) -> str:
    registry = CollectorRegistry()
    requests = Counter("app_requests", "requests", ("handler", "status"), registry=registry)
    latency = Histogram(
        "app_latency_seconds", "latency", latency_labels, buckets=buckets, registry=registry
    )
    inprogress = Gauge("app_inprogress", "in progress", ("handler",), registry=registry)
    requests.labels("/a", "2xx").inc(3)
    requests.labels("/b", "5xx").inc(2)
    latency.labels(*["/a"] * len(latency_labels)).observe(0.7)
    inprogress.labels("/a").set(1)
    return generate_latest(registry).decode()


def test_a_matching_scrape_has_no_problems():
    families = parse(exposition())
    for family in (REQUESTS, LATENCY, INPROGRESS):
        assert family_problems(families, family) == []
        assert_family(families, family)


def test_counters_are_found_by_their_sample_name():
    families = parse(exposition())
    metric = find_metric(families, REQUESTS)
    assert metric is not None
    assert metric.type == "counter"


def test_a_missing_family_is_named():
    families = parse(exposition())
    problems = family_problems(families, Family("nope_total", "counter", ("x",)))
    assert problems == ["nope_total: missing from the scrape"]


def test_a_wrong_kind_is_reported():
    families = parse(exposition())
    problems = family_problems(families, Family("app_inprogress", "counter", ("handler",)))
    assert problems == ["app_inprogress: type gauge, expected counter"]


def test_wrong_buckets_are_reported_with_both_lists():
    families = parse(exposition(buckets=(0.1, 0.5, 1.0)))
    (problem,) = family_problems(families, LATENCY)
    assert "le bounds [0.1, 0.5, 1.0, inf], expected [0.5, 1.5, inf]" in problem


def test_wrong_label_names_are_reported():
    families = parse(exposition(latency_labels=("handler", "method")))
    problems = family_problems(families, LATENCY)
    assert any("unexpected ['method']" in problem for problem in problems)


def test_a_family_without_samples_cannot_be_checked():
    registry = CollectorRegistry()
    Gauge("app_inprogress", "in progress", ("handler",), registry=registry)
    families = parse(generate_latest(registry).decode())
    assert family_problems(families, INPROGRESS) == [
        "app_inprogress: no samples, so its labels cannot be checked"
    ]


def test_assert_family_fails_naming_the_series():
    families = parse(exposition(buckets=(0.1,)))
    with pytest.raises(AssertionError, match="app_latency_seconds_bucket"):
        assert_family(families, LATENCY)


def test_total_sums_matching_samples_only():
    families = parse(exposition())
    assert total(families, "app_requests_total") == 5
    assert total(families, "app_requests_total", {"status": "5xx"}) == 2
    assert total(families, "app_requests_total", {"status": "4xx"}) == 0
