"""Multiwindow, multi-burn-rate alert conditions, after the SRE workbook (chapter 5).

A condition fires when both its long window and its short window (1/12 of the long one) burn
the error budget faster than `factor` times the sustainable rate. The long window makes the
alert significant; the short one makes it reset within minutes of recovery.

The workbook's tiers are stated as the share of a 30-day budget spent within a window: page on
2% in 1h or 5% in 6h, ticket on 10% in 1d or 10% in 3d. For an SLO window W the factor that
spends `share` of the budget within `long` is share * W / long (14.4, 6, 3 and 1 for 30 days).
Factors are never below 1: below 1 the alert would fire while the budget is not running out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from sloalert import durations
from sloalert.conventions import TIER_PAGE, TIER_TICKET
from sloalert.errors import Problem
from sloalert.promql import number

SHORT_WINDOW_DIVISOR: Final = 12


@dataclass(frozen=True)
class WindowPair:
    long: str
    budget_share: float  # of the whole SLO window's budget, spent within `long`

    @property
    def long_ms(self) -> int:
        return durations.parse_ms(self.long)

    @property
    def short(self) -> str:
        return durations.format_ms(self.long_ms // SHORT_WINDOW_DIVISOR)


# The workbook's tiers, each a list of window pairs.
TIERS: Final = {
    TIER_PAGE: (WindowPair("1h", 0.02), WindowPair("6h", 0.05)),
    TIER_TICKET: (WindowPair("1d", 0.10), WindowPair("3d", 0.10)),
}


@dataclass(frozen=True)
class Condition:
    """Fire while both windows burn faster than `factor`."""

    long: str
    short: str
    factor: float
    budget_share: float


def budget(objective_percent: float) -> float:
    """The error budget as a ratio: 99.9 -> 0.001 (rounded so it prints as it reads)."""
    return round((100 - objective_percent) / 100, 12)


def conditions(tier: str, slo_window: str) -> list[Condition]:
    window_ms = durations.parse_ms(slo_window)
    return [
        Condition(
            long=pair.long,
            short=pair.short,
            factor=max(1.0, round(pair.budget_share * window_ms / pair.long_ms, 6)),
            budget_share=pair.budget_share,
        )
        for pair in TIERS[tier]
    ]


def windows(tiers: list[str]) -> list[str]:
    """Every window the given tiers read, shortest first."""
    found = {w for tier in tiers for pair in TIERS[tier] for w in (pair.long, pair.short)}
    return sorted(found, key=durations.parse_ms)


def problems(tiers: list[str], objective_percent: float, slo_window: str) -> Iterator[Problem]:
    """Tiers that cannot work for this objective and window, with what to change."""
    window_ms = durations.parse_ms(slo_window)
    error_budget = budget(objective_percent)
    for tier in tiers:
        longest = max(pair.long_ms for pair in TIERS[tier])
        if window_ms < longest:
            yield Problem(
                "spec.window",
                f"{slo_window} is shorter than the {tier} tier's longest window "
                f"({durations.format_ms(longest)}): use a window of at least that, or set "
                f"spec.alerting.{tier}.enabled to false",
            )
            continue
        for condition in conditions(tier, slo_window):
            threshold = condition.factor * error_budget
            if threshold >= 1:
                yield Problem(
                    "spec.objective",
                    f"with {number(objective_percent)}% over {slo_window} the {tier} tier would "
                    f"need an error ratio above {number(threshold * 100)}% over "
                    f"{condition.long}, which can never happen: raise the objective or set "
                    f"spec.alerting.{tier}.enabled to false",
                )
                break
