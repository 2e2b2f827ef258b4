"""Service-level indicators as PromQL: the bad-event ratio over a window, a value, and the series
whose absence means "no data".

Every ratio here is well defined without traffic: a window with no events gives no sample at
all (never 0/0 = NaN, which would compare false everywhere and poison any average taken over
it), and a window with events but no bad ones gives 0 even when the bad-event series has never
been created (client libraries create `status="5xx"` series on the first error).
"""

from __future__ import annotations

from dataclasses import dataclass

from sloalert.conventions import GROUP_LABEL
from sloalert.promql import Selector, eq, le_value, number, with_window


def _grouped(expr: str, group_by: tuple[str, ...]) -> str:
    """`expr` with the group named in one label, GROUP_LABEL ("handler=/menu,method=GET"),
    so alerts, inhibit rules and the dashboard tell groups apart without knowing the labels."""
    if not group_by:
        return expr
    first, *rest = group_by
    named = f'label_replace(\n{_indent(expr)}\n, "{GROUP_LABEL}", "{first}=$1", "{first}", "(.*)")'
    for label in rest:
        named = f'label_join({named}, "{GROUP_LABEL}", ",{label}=", "{GROUP_LABEL}", "{label}")'
    return named


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _sum(group_by: tuple[str, ...], labels: tuple[str, ...] = ()) -> str:
    """`sum`, or `sum by (...)` keeping the groups (and any `labels` a function needs)."""
    kept = (*labels, *group_by)
    return f"sum by ({', '.join(kept)}) " if kept else "sum"


@dataclass(frozen=True)
class RatioSLI:
    """Bad events / all events, from two counters; per group with `group_by`."""

    errors: Selector
    total: Selector
    group_by: tuple[str, ...] = ()

    def error_ratio(self, window: str) -> str:
        total = f"{_sum(self.group_by)}(rate({self.total.over(window)}))"
        # A group with events but no bad ones yet gives 0: `vector(0)` has no group labels,
        # so grouped, the zero comes from the group's own total.
        none = "vector(0)" if not self.group_by else f"0 * {total}"
        return _grouped(
            f"({_sum(self.group_by)}(rate({self.errors.over(window)})) or {none})\n"
            f"/\n"
            f"({total} > 0)",
            self.group_by,
        )

    def total_rate(self, window: str) -> str:
        return _grouped(f"{_sum(self.group_by)}(rate({self.total.over(window)}))", self.group_by)

    def value(self, window: str) -> str:
        return self.error_ratio(window)

    @property
    def sources(self) -> tuple[Selector, ...]:
        # Only the total: the errors series may rightly not exist yet.
        return (self.total,)


@dataclass(frozen=True)
class LatencySLI:
    """Events slower than a bucket bound / all events, from one classic histogram.

    The `+Inf` bucket is the total, so only the `_bucket` series are read. In threshold mode the
    value is either that slow ratio or, with `quantile`, the histogram_quantile estimate.
    """

    histogram: Selector  # the `_bucket` series, without an `le` matcher
    threshold_seconds: float | None
    quantile: float | None = None
    group_by: tuple[str, ...] = ()

    @property
    def good(self) -> Selector:
        if self.threshold_seconds is None:
            raise ValueError("a latency SLI without thresholdSeconds has no good-event count")
        return self.histogram.where(eq("le", le_value(self.threshold_seconds)))

    @property
    def all(self) -> Selector:
        return self.histogram.where(eq("le", le_value(float("inf"))))

    def error_ratio(self, window: str) -> str:
        total = _sum(self.group_by)
        return _grouped(
            f"1 - (\n"
            f"  {total}(rate({self.good.over(window)}))\n"
            f"  /\n"
            f"  ({total}(rate({self.all.over(window)})) > 0)\n"
            f")",
            self.group_by,
        )

    def total_rate(self, window: str) -> str:
        return _grouped(f"{_sum(self.group_by)}(rate({self.all.over(window)}))", self.group_by)

    def value(self, window: str) -> str:
        if self.quantile is None:
            return self.error_ratio(window)
        return _grouped(
            f"histogram_quantile({number(self.quantile)}, "
            f"{_sum(self.group_by, ('le',))}(rate({self.histogram.over(window)})))",
            self.group_by,
        )

    @property
    def sources(self) -> tuple[Selector, ...]:
        return (self.all,)


@dataclass(frozen=True)
class ExpressionSLI:
    """PromQL templates with a `$window` placeholder: user expressions and value presets.

    `ratio` is None when the indicator is a value (CPU use, `up`) that has no bad-event ratio.
    """

    ratio: str | None
    value_template: str
    source_selectors: tuple[Selector, ...]

    def error_ratio(self, window: str) -> str:
        if self.ratio is None:
            raise ValueError("this indicator is a value, not a bad-event ratio")
        return with_window(self.ratio, window)

    def total_rate(self, window: str) -> None:
        return None

    def value(self, window: str) -> str:
        return with_window(self.value_template, window)

    @property
    def sources(self) -> tuple[Selector, ...]:
        return self.source_selectors


SLI = RatioSLI | LatencySLI | ExpressionSLI


def has_total(sli: SLI) -> bool:
    return not isinstance(sli, ExpressionSLI)


def presence(sli: SLI) -> str:
    """PromQL giving one sample while any of the SLI's source series exists: recorded, it is
    the cheap memory of the sources the no-data alert reads (one series, whatever the sources)."""
    return f"group({' or '.join(str(selector) for selector in sli.sources)})"


def absent(sli: SLI, present: Selector, lookback: str) -> str:
    """PromQL that returns a sample exactly when none of the SLI's source series exists now,
    though `present` (a recording that exists while they do) was recorded within `lookback`:
    data that vanished. It keeps firing until the data returns, or `lookback` after the
    last sample. A series that never existed (a fresh install before its first request) is no
    alert: the series check reports it."""
    now = " or ".join(str(selector) for selector in sli.sources)
    return f"absent({now})\nand on ()\ncount_over_time({present.over(lookback)})"
