"""Synthetic request traffic and SLOAlert resources for rule behaviour tests and benchmarks.

Traffic is a list of phases (how long, how many requests per second, which share fail), turned
into the counters prometheus-fastapi-instrumentator exports, sampled once a minute, in
promtool's series notation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sloalert import conventions, exporters

from testkit.promtool import counter, series


@dataclass(frozen=True)
class Phase:
    minutes: int
    per_second: float  # requests per second
    error_ratio: float = 0.0  # share of them answered 5xx


def minutes(phases: Sequence[Phase]) -> int:
    return sum(phase.minutes for phase in phases)


def fastapi_requests(job: str, phases: Sequence[Phase]) -> list[dict[str, str]]:
    """http_requests_total for `job`: a 2xx and a 5xx series following `phases`, one sample a
    minute (use `interval: 1m` in the test)."""
    base = {"job": job, "handler": "/menu", "method": "GET"}
    good = counter(*((p.minutes, p.per_second * 60 * (1 - p.error_ratio)) for p in phases))
    bad = counter(*((p.minutes, p.per_second * 60 * p.error_ratio) for p in phases))
    return [
        series(exporters.FASTAPI_REQUESTS.name, {**base, "status": "2xx"}, good),
        series(exporters.FASTAPI_REQUESTS.name, {**base, "status": "5xx"}, bad),
    ]


def availability_slo(
    name: str,
    job: str,
    *,
    objective: float = 99.9,
    namespace: str = "apps",
    alerting: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A burn-rate SLOAlert on the fastapi-availability preset (default tiers unless `alerting`)."""
    spec: dict[str, Any] = {
        "service": job,
        "indicator": {"preset": {"name": "fastapi-availability", "job": job}},
        "objective": objective,
    }
    if alerting is not None:
        spec["alerting"] = dict(alerting)
    return {
        "apiVersion": conventions.API_VERSION,
        "kind": conventions.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


@dataclass(frozen=True)
class LatencyPhase:
    minutes: int
    per_second: float  # requests (or queries) per second
    seconds: float  # how long each of them takes


def histogram(
    bucket_series: str,
    labels: Mapping[str, str],
    bounds: Sequence[float],
    phases: Sequence[LatencyPhase],
) -> list[dict[str, str]]:
    """A classic histogram's `_bucket` series (one per bound, and +Inf) following `phases`."""
    result = []
    for bound in [*bounds, float("inf")]:
        per_minute = [
            (phase.minutes, phase.per_second * 60 if phase.seconds <= bound else 0.0)
            for phase in phases
        ]
        le = "+Inf" if bound == float("inf") else repr(float(bound))
        result.append(series(bucket_series, {**labels, "le": le}, counter(*per_minute)))
    return result


def steps(*levels: tuple[int, float]) -> str:
    """A gauge holding each (samples, value) in turn: `steps((3, 1), (2, 0))` is 1 1 1 0 0."""
    return " ".join(f"{format(value, '.12g')}x{samples - 1}" for samples, value in levels)
