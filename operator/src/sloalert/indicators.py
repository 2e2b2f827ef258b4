"""From the `indicator` of a spec to an SLI, and every reason it cannot become one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import promql_parser

from sloalert import presets
from sloalert.conventions import WINDOW_PLACEHOLDER
from sloalert.errors import Problem
from sloalert.models import DEFAULT_RATE_WINDOW, Alerting, Indicator, SLOAlertSpec
from sloalert.promql import PromQLError, number, parse, parse_selector, selectors_in, with_window
from sloalert.sli import SLI, ExpressionSLI, LatencySLI, RatioSLI

FIELD: Final = "spec.indicator"
# Any valid range stands in for $window while checking an expression.
PROBE_WINDOW: Final = "5m"
BUCKET_SUFFIX: Final = "_bucket"
_NOT_INSTANT: Final = (
    promql_parser.MatrixSelector,
    promql_parser.SubqueryExpr,
    promql_parser.StringLiteral,
)


def build(indicator: Indicator) -> SLI:
    """The SLI of a validated indicator."""
    if indicator.preset is not None:
        return presets.build(indicator.preset)
    group_by = tuple(indicator.group_by or ())
    if indicator.ratio is not None:
        return RatioSLI(
            errors=parse_selector(indicator.ratio.errors),
            total=parse_selector(indicator.ratio.total),
            group_by=group_by,
        )
    if indicator.latency is not None:
        return LatencySLI(
            parse_selector(indicator.latency.histogram),
            indicator.latency.threshold_seconds,
            group_by=group_by,
        )
    assert indicator.expression is not None
    text = indicator.expression
    return ExpressionSLI(
        ratio=text,
        value_template=text,
        source_selectors=tuple(selectors_in(parse(with_window(text, PROBE_WINDOW)))),
    )


def problems(indicator: Indicator, alerting: Alerting) -> Iterator[Problem]:
    if indicator.preset is not None:
        yield from presets.problems(indicator.preset, alerting)
    elif indicator.ratio is not None:
        yield from _ratio_problems(indicator.ratio.errors, indicator.ratio.total)
    elif indicator.latency is not None:
        yield from _histogram_problems(indicator.latency.histogram)
        if "le" in (indicator.group_by or ()):
            yield Problem(
                f"{FIELD}.groupBy",
                "le is the histogram's bucket label: a group per bucket measures nothing",
            )
    elif indicator.expression is not None:
        yield from _expression_problems(indicator.expression, alerting)


def _ratio_problems(errors: str, total: str) -> Iterator[Problem]:
    parsed = {}
    for name, text in (("errors", errors), ("total", total)):
        try:
            parsed[name] = parse_selector(text)
        except PromQLError as exc:
            yield Problem(f"{FIELD}.ratio.{name}", f"{text!r} {exc}")
    if len(parsed) == 2 and parsed["errors"].selects_the_same_as(parsed["total"]):
        yield Problem(
            f"{FIELD}.ratio.errors",
            "selects the same series as total, so the ratio would always be 1: add the "
            'matchers that pick bad events, e.g. status=~"5.."',
        )


def _histogram_problems(text: str) -> Iterator[Problem]:
    field = f"{FIELD}.latency.histogram"
    try:
        selector = parse_selector(text)
    except PromQLError as exc:
        yield Problem(field, f"{text!r} {exc}")
        return
    if selector.metric is None or not selector.metric.endswith(BUCKET_SUFFIX):
        yield Problem(
            field,
            f"{text!r} must name a classic histogram's {BUCKET_SUFFIX} series, like "
            'http_request_duration_seconds_bucket{job="api"}',
        )
    if "le" in selector.labels():
        yield Problem(
            field,
            f"{text!r} must not match on le: sloalert picks the buckets from thresholdSeconds",
        )


def _expression_problems(text: str, alerting: Alerting) -> Iterator[Problem]:
    field = f"{FIELD}.expression"
    if alerting.mode == "burnRate" and WINDOW_PLACEHOLDER not in text:
        yield Problem(
            field,
            f"burnRate mode evaluates the ratio over several windows, so the expression must "
            f"write {WINDOW_PLACEHOLDER} where the range goes, e.g. "
            f"sum(rate(errors[{WINDOW_PLACEHOLDER}])) / sum(rate(total[{WINDOW_PLACEHOLDER}]))",
        )
    try:
        expr = parse(with_window(text, PROBE_WINDOW))
    except PromQLError as exc:
        yield Problem(field, str(exc))
        return
    while isinstance(expr, promql_parser.ParenExpr):
        expr = expr.expr
    if isinstance(expr, _NOT_INSTANT):
        yield Problem(
            field, "must give an instant vector (a range or a string cannot be alerted on)"
        )
    if not selectors_in(expr):
        yield Problem(field, "reads no series: an SLI must select something")


def describe(spec: SLOAlertSpec) -> str:
    """What the indicator measures, in words, for alert descriptions."""
    indicator = spec.indicator
    window = spec.alerting.rate_window or DEFAULT_RATE_WINDOW
    if indicator.preset is not None:
        what = presets.PRESETS[indicator.preset.name].summary
        if indicator.preset.quantile is not None:
            what = f"the p{number(indicator.preset.quantile * 100)} latency (seconds)"
        return f"{what} ({indicator.preset.name}, rate over {window})"
    if indicator.ratio is not None:
        return f"the ratio {indicator.ratio.errors} / {indicator.ratio.total} over {window}"
    if indicator.latency is not None:
        return (
            f"the share of {indicator.latency.histogram} slower than "
            f"{number(indicator.latency.threshold_seconds)}s over {window}"
        )
    return "the indicator's expression"
