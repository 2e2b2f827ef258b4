"""Scrape a real /metrics endpoint and check its families against the exporter catalogue.

The catalogue (`sloalert.exporters.Family`) names each family by the sample name a PromQL
selector uses (`http_requests_total`); prometheus_client's parser names counter families
without `_total`. `find_metric` bridges the two, so callers pass catalogue entries as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Protocol

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

INF = math.inf
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


class FamilySpec(Protocol):
    """What a catalogue entry says about a family (matches `sloalert.exporters.Family`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def buckets(self) -> tuple[float, ...]: ...


def parse(text: str) -> dict[str, Metric]:
    """Families of a text exposition, keyed by the parser's family name."""
    return {metric.name: metric for metric in text_string_to_metric_families(text)}


def scrape(url: str, *, timeout: float = 5.0) -> dict[str, Metric]:
    """GET `url` (a /metrics endpoint) and parse it; an HTTP error status raises."""
    response = httpx.get(url, timeout=timeout)
    response.raise_for_status()
    return parse(response.text)


def find_metric(families: Mapping[str, Metric], family: FamilySpec) -> Metric | None:
    """The scraped family a catalogue entry describes, or None if the scrape lacks it."""
    candidates = [family.name]
    if family.kind == "counter":
        candidates.append(family.name.removesuffix("_total"))
    return next((families[name] for name in candidates if name in families), None)


def _own_samples(metric: Metric, family: FamilySpec) -> list[Sample]:
    """The samples PromQL selects by this family's names (not `_created` and the like)."""
    if family.kind == "histogram":
        wanted = {family.name + suffix for suffix in _HISTOGRAM_SUFFIXES}
    else:
        wanted = {family.name}
    return [sample for sample in metric.samples if sample.name in wanted]


def _label_problems(samples: Iterable[Sample], family: FamilySpec) -> list[str]:
    expected = set(family.labels)
    problems = []
    seen: set[tuple[str, frozenset[str]]] = set()
    for sample in samples:
        names = set(sample.labels)
        if sample.name.endswith("_bucket") and family.kind == "histogram":
            names.discard("le")
        key = (sample.name, frozenset(names))
        if names == expected or key in seen:
            continue
        seen.add(key)
        problems.append(
            f"{sample.name}: labels {sorted(names)}, expected {sorted(expected)}"
            f" (missing {sorted(expected - names)}, unexpected {sorted(names - expected)})"
        )
    return problems


def _bucket_problems(samples: Iterable[Sample], family: FamilySpec) -> list[str]:
    bucket = family.name + "_bucket"
    expected = [*sorted(family.buckets), INF]
    series: dict[tuple[tuple[str, str], ...], list[float]] = {}
    for sample in samples:
        if sample.name != bucket:
            continue
        key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
        series.setdefault(key, []).append(float(sample.labels["le"]))
    if not series:
        return [f"{bucket}: no bucket samples"]
    problems = []
    for key, bounds in series.items():
        if sorted(bounds) != expected:
            problems.append(f"{bucket}{dict(key)}: le bounds {sorted(bounds)}, expected {expected}")
    return problems


def family_problems(families: Mapping[str, Metric], family: FamilySpec) -> list[str]:
    """Everything wrong with `family` in a scrape: presence, type, label names, buckets.

    A family without samples is a problem too: its labels cannot be checked, so drive
    traffic that creates at least one series before checking.
    """
    metric = find_metric(families, family)
    if metric is None:
        return [f"{family.name}: missing from the scrape"]
    if metric.type != family.kind:
        return [f"{family.name}: type {metric.type}, expected {family.kind}"]
    samples = _own_samples(metric, family)
    if not samples:
        return [f"{family.name}: no samples, so its labels cannot be checked"]
    problems = _label_problems(samples, family)
    if family.kind == "histogram":
        problems += _bucket_problems(samples, family)
    return problems


def assert_family(families: Mapping[str, Metric], family: FamilySpec) -> None:
    """Fail with every problem `family_problems` finds, all at once."""
    problems = family_problems(families, family)
    if problems:
        raise AssertionError(
            f"{family.name} does not match the catalogue:\n  " + "\n  ".join(problems)
        )


def samples_named(
    families: Mapping[str, Metric], sample_name: str, labels: Mapping[str, str] | None = None
) -> list[Sample]:
    """Samples called `sample_name` whose labels include every pair in `labels`."""
    wanted = dict(labels or {})
    return [
        sample
        for metric in families.values()
        for sample in metric.samples
        if sample.name == sample_name
        and all(sample.labels.get(key) == value for key, value in wanted.items())
    ]


def total(
    families: Mapping[str, Metric], sample_name: str, labels: Mapping[str, str] | None = None
) -> float:
    """Sum of the matching samples' values (0.0 when nothing matches)."""
    return sum(sample.value for sample in samples_named(families, sample_name, labels))
