"""Service-level indicators as PromQL: the bad-event ratio over a window, a value, and the series
whose absence means "no data".

Every ratio here is well defined without traffic: a window with no events gives no sample at
all (never 0/0 = NaN, which would compare false everywhere and poison any average taken over
it), and a window with events but no bad ones gives 0 even when the bad-event series has never
been created (client libraries create `status="5xx"` series on the first error).
"""

from __future__ import annotations

from dataclasses import dataclass

from sloalert.promql import Selector, eq, le_value, number, with_window


@dataclass(frozen=True)
class RatioSLI:
    """Bad events / all events, from two counters."""

    errors: Selector
    total: Selector

    def error_ratio(self, window: str) -> str:
        return (
            f"(sum(rate({self.errors.over(window)})) or vector(0))\n"
            f"/\n"
            f"(sum(rate({self.total.over(window)})) > 0)"
        )

    def total_rate(self, window: str) -> str:
        return f"sum(rate({self.total.over(window)}))"

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

    @property
    def good(self) -> Selector:
        if self.threshold_seconds is None:
            raise ValueError("a latency SLI without thresholdSeconds has no good-event count")
        return self.histogram.where(eq("le", le_value(self.threshold_seconds)))

    @property
    def all(self) -> Selector:
        return self.histogram.where(eq("le", le_value(float("inf"))))

    def error_ratio(self, window: str) -> str:
        return (
            f"1 - (\n"
            f"  sum(rate({self.good.over(window)}))\n"
            f"  /\n"
            f"  (sum(rate({self.all.over(window)})) > 0)\n"
            f")"
        )

    def total_rate(self, window: str) -> str:
        return f"sum(rate({self.all.over(window)}))"

    def value(self, window: str) -> str:
        if self.quantile is None:
            return self.error_ratio(window)
        return (
            f"histogram_quantile({number(self.quantile)}, "
            f"sum by (le) (rate({self.histogram.over(window)})))"
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


def absent(sli: SLI) -> str:
    """PromQL that returns a sample exactly when none of the SLI's source series exists."""
    return f"absent({' or '.join(str(selector) for selector in sli.sources)})"
