"""The error-budget series of a burn-rate SLO: its objective, its error budget, the bad-event
ratio over its whole window, and the share of the budget left. Pure, like the generator.

Cheap by construction: nothing reads 30 days of raw series. A group of its own, evaluated every
BUDGET_GROUP_INTERVAL, records the SLO's events per second and bad events per second over a
short window w (1h when the page tier is on, which the burn-rate rules already record the ratio
of); the whole-window ratio is the sum of the bad-event samples over the window over the sum of
the event samples. Summing rates sampled at an even interval weighs each stretch of time by its
traffic, as an SLO that counts events must (a busy hour counts more than a quiet one); because
w is longer than the interval, every event is counted w / interval times, which cancels in the
ratio, and a gap in evaluation shorter than w (a Prometheus restart) thins a stretch instead of
losing it.

No traffic records 0 events and no bad-event sample, so the sums, and every figure, stay as
they were; with no events at all over the window there is no ratio (never 0/0 = NaN).
Expression indicators count no events: their whole-window ratio is the time average of the
w ratio recording (Sloth's way), each evaluation with data weighing the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sloalert import burnrate, conventions, durations
from sloalert.conventions import WINDOW_LABEL
from sloalert.promql import Selector, number
from sloalert.sli import SLI

# The shortest recorded ratio window the budget may read: long against the group's interval.
MIN_WINDOW: Final = "1h"


@dataclass(frozen=True)
class Recording:
    name: str
    expr: str
    labels: Mapping[str, str]


def window(tiers: list[str]) -> str:
    """The ratio recording the budget reads: the shortest of at least MIN_WINDOW."""
    floor = durations.parse_ms(MIN_WINDOW)
    return next(w for w in burnrate.windows(tiers) if durations.parse_ms(w) >= floor)


def traffic(own: Selector, tiers: list[str], long: str) -> str:
    """Events per second over `long`, from the budget group's recording (the traffic guard).

    Averaging the w rates that end within the last `long - w` covers `long` exactly.
    """
    short = window(tiers)
    series = Selector(conventions.total_rate_record(short), own.matchers)
    rest = durations.parse_ms(long) - durations.parse_ms(short)
    if rest <= 0:
        return str(series)
    return f"avg_over_time({series.over(durations.format_ms(rest))})"


def recordings(
    slo_window: str,
    objective_percent: float,
    sli: SLI,
    tiers: list[str],
    identity: Mapping[str, str],
    own: Selector,
) -> list[Recording]:
    """The budget group's rules, in evaluation order (each reads the ones before it)."""
    short = window(tiers)
    error_budget = burnrate.budget(objective_percent)
    whole = {**identity, WINDOW_LABEL: slo_window}

    def series(name: str) -> Selector:
        return Selector(name, own.matchers)

    ratio = series(conventions.error_ratio_record(short))
    rules = [
        Recording(conventions.OBJECTIVE_RECORD, f"vector({number(1 - error_budget)})", whole),
        Recording(conventions.ERROR_BUDGET_RECORD, f"vector({number(error_budget)})", whole),
    ]
    total_rate = sli.total_rate(short)
    if total_rate is None:
        whole_ratio = f"avg_over_time({ratio.over(slo_window)})"
    else:
        at_short = {**identity, WINDOW_LABEL: short}
        events_name = conventions.total_rate_record(short)
        errors_name = conventions.error_rate_record(short)
        events, errors = series(events_name), series(errors_name)
        rules += [
            Recording(events_name, total_rate, at_short),
            Recording(errors_name, f"{ratio}\n*\n{events}", at_short),
        ]
        whole_ratio = (
            f"sum_over_time({errors.over(slo_window)})\n"
            f"/\n"
            f"(sum_over_time({events.over(slo_window)}) > 0)"
        )
    rules.append(Recording(conventions.WINDOW_ERROR_RATIO_RECORD, whole_ratio, whole))
    remaining = series(conventions.WINDOW_ERROR_RATIO_RECORD)
    rules.append(
        Recording(
            conventions.BUDGET_REMAINING_RECORD,
            f"1 - (\n  {remaining}\n  /\n  {number(error_budget)}\n)",
            whole,
        )
    )
    return rules
