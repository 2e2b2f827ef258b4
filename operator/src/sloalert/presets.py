"""Named indicators for the apps and hosts this project runs, built only from `exporters` names.

A preset turns a few parameters (job, thresholdSeconds, quantile) into an SLI whose PromQL reads
series the exporters really emit; the services' tests scrape the running apps to keep
`sloalert.exporters` true, so a preset cannot drift from reality unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, Literal

from sloalert import exporters
from sloalert.conventions import WINDOW_PLACEHOLDER
from sloalert.errors import Problem
from sloalert.models import Alerting, Preset
from sloalert.promql import Matcher, Selector, eq, number
from sloalert.sli import SLI, ExpressionSLI, LatencySLI, RatioSLI

Kind = Literal["ratio", "latency", "up", "value"]
FIELD: Final = "spec.indicator.preset"


@dataclass(frozen=True)
class PresetDef:
    name: str
    kind: Kind
    job_required: bool
    summary: str
    # ratio presets: the total selector and the matcher that picks bad events out of it
    total: Callable[[list[Matcher]], Selector] | None = None
    bad: Matcher | None = None
    # latency presets: the histogram and its bucket bounds
    histogram: exporters.Family | None = None
    extra: tuple[Matcher, ...] = ()
    # value presets: the value's PromQL from the selector matchers
    value: Callable[[list[Matcher]], ExpressionSLI] | None = None

    @property
    def buckets(self) -> tuple[float, ...]:
        return self.histogram.buckets if self.histogram else ()


_NOT_METRICS_VIEW: Final = Matcher("view", "!=", exporters.DJANGO_METRICS_VIEW)


def _node_cpu(matchers: list[Matcher]) -> ExpressionSLI:
    idle = Selector(exporters.NODE_CPU.name, (eq("mode", "idle"), *matchers))
    return ExpressionSLI(
        ratio=None,
        value_template=f"1 - avg by (instance) (rate({idle.over(WINDOW_PLACEHOLDER)}))",
        source_selectors=(idle,),
    )


def _node_memory(matchers: list[Matcher]) -> ExpressionSLI:
    available = Selector(exporters.NODE_MEMORY_AVAILABLE.name, tuple(matchers))
    total = Selector(exporters.NODE_MEMORY_TOTAL.name, tuple(matchers))
    return ExpressionSLI(
        ratio=None, value_template=f"{available} / {total}", source_selectors=(available, total)
    )


def _target_up(matchers: list[Matcher]) -> ExpressionSLI:
    up = Selector(exporters.UP.name, tuple(matchers))
    return ExpressionSLI(
        # Over a window: the share of scrapes that failed, across the job's targets.
        ratio=f"1 - avg(avg_over_time({up.over(WINDOW_PLACEHOLDER)}))",
        value_template=str(up),
        source_selectors=(up,),
    )


PRESETS: Final = {
    preset.name: preset
    for preset in (
        PresetDef(
            "fastapi-availability",
            "ratio",
            job_required=True,
            summary="FastAPI requests answered 5xx, over all requests",
            total=lambda m: Selector(exporters.FASTAPI_REQUESTS.name, tuple(m)),
            bad=eq("status", "5xx"),  # the instrumentator groups status codes
        ),
        PresetDef(
            "django-availability",
            "ratio",
            job_required=True,
            summary="Django responses with a 5xx status, over all responses",
            total=lambda m: Selector(exporters.DJANGO_RESPONSES.name, (*m, _NOT_METRICS_VIEW)),
            bad=Matcher("status", "=~", "5.."),  # django-prometheus keeps exact codes
        ),
        PresetDef(
            "fastapi-latency",
            "latency",
            job_required=True,
            summary="FastAPI requests slower than thresholdSeconds",
            histogram=exporters.FASTAPI_LATENCY,
        ),
        PresetDef(
            "django-latency",
            "latency",
            job_required=True,
            summary="Django requests slower than thresholdSeconds",
            histogram=exporters.DJANGO_LATENCY,
            extra=(_NOT_METRICS_VIEW,),
        ),
        PresetDef(
            "django-db-latency",
            "latency",
            job_required=True,
            summary="Django database queries slower than thresholdSeconds",
            histogram=exporters.DJANGO_DB_LATENCY,
        ),
        PresetDef(
            "target-down",
            "up",
            job_required=False,
            summary="scrapes that failed (up == 0); in threshold mode the value of up",
            value=_target_up,
        ),
        PresetDef(
            "node-cpu",
            "value",
            job_required=False,
            summary="the busy CPU fraction per instance",
            value=_node_cpu,
        ),
        PresetDef(
            "node-memory",
            "value",
            job_required=False,
            summary="the available memory fraction per instance",
            value=_node_memory,
        ),
    )
}


def build(preset: Preset) -> SLI:
    """The SLI a (validated) preset stands for."""
    definition = PRESETS[preset.name]
    matchers = [eq("job", preset.job)] if preset.job else []
    if definition.kind == "ratio":
        assert definition.total is not None and definition.bad is not None
        total = definition.total(matchers)
        return RatioSLI(errors=total.where(definition.bad), total=total)
    if definition.kind == "latency":
        assert definition.histogram is not None
        histogram = Selector(definition.histogram.bucket, (*matchers, *definition.extra))
        return LatencySLI(histogram, preset.threshold_seconds, preset.quantile)
    assert definition.value is not None
    return definition.value(matchers)


def problems(preset: Preset, alerting: Alerting) -> Iterator[Problem]:
    """Everything wrong with the preset's parameters for this alerting mode."""
    definition = PRESETS[preset.name]
    burn_rate = alerting.mode == "burnRate"
    if definition.job_required and preset.job is None:
        yield Problem(f"{FIELD}.job", f"{preset.name} needs the Prometheus job of the app")
    if definition.kind == "value" and burn_rate:
        yield Problem(
            f"{FIELD}.name",
            f"{preset.name} gives a value, {definition.summary}, not a bad-event ratio, so it "
            "has no error budget to burn: use alerting.mode threshold",
        )
    if definition.kind != "latency":
        for field, given in (
            ("thresholdSeconds", preset.threshold_seconds),
            ("quantile", preset.quantile),
        ):
            if given is not None:
                yield Problem(f"{FIELD}.{field}", f"{preset.name} takes no {field}")
        return
    yield from _latency_problems(preset, definition, alerting)


def _latency_problems(
    preset: Preset, definition: PresetDef, alerting: Alerting
) -> Iterator[Problem]:
    assert definition.histogram is not None
    if alerting.mode == "burnRate":
        if preset.quantile is not None:
            yield Problem(
                f"{FIELD}.quantile",
                "quantile is for threshold mode; a burn-rate SLO counts requests slower than "
                "thresholdSeconds",
            )
        if preset.threshold_seconds is None:
            yield Problem(
                f"{FIELD}.thresholdSeconds",
                f"{preset.name} needs thresholdSeconds, one of {_bounds(definition)}",
            )
    elif (preset.threshold_seconds is None) == (preset.quantile is None):
        yield Problem(
            FIELD,
            "in threshold mode give exactly one of thresholdSeconds (alert on the share of "
            "requests slower than it) or quantile (alert on that quantile's estimate)",
        )
    if preset.threshold_seconds is not None:
        yield from _bucket_problem(
            f"{FIELD}.thresholdSeconds", preset.threshold_seconds, definition, "thresholdSeconds"
        )
    if preset.quantile is not None and alerting.mode == "threshold":
        # histogram_quantile interpolates inside a bucket: only a bound gives a true answer.
        for field, limit in (("above", alerting.above), ("below", alerting.below)):
            if limit is not None:
                yield from _bucket_problem(f"spec.alerting.{field}", limit, definition, field)


def _bucket_problem(
    field: str, seconds: float, definition: PresetDef, what: str
) -> Iterator[Problem]:
    if seconds not in definition.buckets:
        assert definition.histogram is not None
        yield Problem(
            field,
            f"{what} {number(seconds)} is not a bucket boundary of "
            f"{definition.histogram.name} (buckets: {_bounds(definition)}); between "
            "boundaries Prometheus can only guess by interpolation",
        )


def _bounds(definition: PresetDef) -> str:
    return ", ".join(number(bound) for bound in definition.buckets)
