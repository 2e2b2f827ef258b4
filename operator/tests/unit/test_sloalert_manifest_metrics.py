"""The example SLOs read only series the apps and exporters really emit (sloalert.exporters)."""

from __future__ import annotations

import pytest
from sloalert import exporters, indicators
from sloalert.promql import parse, selectors_in
from sloalert.validation import load
from testkit import sloalert_testdata as corpus

FAMILIES = (
    *exporters.FASTAPI_FAMILIES,
    *exporters.DJANGO_FAMILIES,
    *exporters.NODE_FAMILIES,
    exporters.UP,
    exporters.DJANGO_DB_ERRORS,
)
EMITTED = {
    name
    for family in FAMILIES
    for name in (
        (family.name, family.bucket, family.count) if family.kind == "histogram" else (family.name,)
    )
}
MANIFESTS = [e for e in corpus.valid() if e.path.parent == corpus.MANIFESTS]


@pytest.mark.parametrize("example", MANIFESTS, ids=lambda e: e.id)
def test_every_series_an_example_reads_is_one_the_exporters_emit(example: corpus.Example) -> None:
    slo = load(example.body)
    sli = indicators.build(slo.spec.indicator)
    read = {s.metric for s in sli.sources} | {
        s.metric for s in selectors_in(parse(sli.value("5m")))
    }
    assert read <= EMITTED, read - EMITTED


@pytest.mark.parametrize("example", MANIFESTS, ids=lambda e: e.id)
def test_django_examples_leave_out_djangos_metrics_view(example: corpus.Example) -> None:
    text = example.path.read_text()
    if exporters.DJANGO_RESPONSES.name in text:
        assert text.count(exporters.DJANGO_RESPONSES.name) == text.count(
            f'view!="{exporters.DJANGO_METRICS_VIEW}"'
        )


def test_the_seven_seed_alerts_and_four_burn_rate_slos_are_there() -> None:
    names = {e.body["metadata"]["name"]: e.body["spec"].get("alerting", {}) for e in MANIFESTS}
    seeds = {n for n, a in names.items() if a.get("mode") == "threshold"}
    assert {names[n]["name"] for n in seeds} == {
        "ScrapeTargetDown",
        "High5xxErrorRate",
        "High5xxAbsoluteRPS",
        "FastAPIP95LatencyHigh",
        "DjangoDBP95High",
        "HighCPUUsage",
        "LowMemory",
    }
    assert set(names) - seeds == {
        "fastapi-availability",
        "fastapi-latency",
        "django-availability",
        "django-latency",
    }
