"""How fast the generated burn-rate alerts detect and forget incidents, next to the SRE workbook.

A 99.9%-over-30d availability SLO with the default tiers (fastapi-availability preset), fed
synthetic traffic of 1 request a second after six healthy hours, sampled and evaluated every
minute by the real promtool (deterministic: no clocks, no sleeps). For each scenario the minute
the alert first fires and the last minute it fires come from one `promtool test rules` run:
two subqueries over the alert's ALERTS series at the end of the scenario (see Probe).

The workbook's expectation uses the workbook's own constants (written out below, not taken from
the generator under test): an error ratio e burns the budget at e / (1 - objective) times the
sustainable rate; a pair (long window L, factor f) detects after L * f / burn, and resets within
its short window once the incident ends. Also checked: the rule count of every burn-rate SLO in
manifests/slo against the target of at most 16 (what Sloth generates for one SLO); the bench
exits 1 when one is above it.

Run from the repository root (about 45 s):
    uv run python bench/bench_detection.py
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sloalert.generator import generate
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool
from testkit.bench_results import Figure, at_most, finish
from testkit.slo_traffic import Phase, availability_slo, fastapi_requests, minutes
from testkit.tools import find_tool

JOB = "fastapi"
OBJECTIVE = 99.9
WINDOW = "30d"
HEALTHY = Phase(6 * 60, 1.0, 0.0)  # fills the page tier's longest window (6h)
HEALTHY_3D = Phase(3 * 24 * 60, 1.0, 0.0)  # fills the ticket tier's longest window (3d)
QUIET = Phase(6 * 60, 0.1, 0.0)
SLOTH_RULES_PER_SLO = 16  # the target: no more rules per SLO than Sloth writes
MANIFESTS = Path(__file__).resolve().parents[1] / "manifests" / "slo"
BUDGET_SECONDS = 170  # the bench must finish within 3 minutes
VANISHED_MINUTES = 120
_GOT = re.compile(r"got: \{\} ([-+0-9.eE]+)")


@dataclass(frozen=True)
class WorkbookPair:
    """One of the SRE workbook's window pairs for a 30-day SLO (chapter 5, Alerting on SLOs)."""

    long_minutes: int
    short_minutes: int
    factor: float


# The workbook's tiers for a 30d window, written out: page 14.4x over 1h/5m or 6x over 6h/30m,
# ticket 3x over 1d/2h or 1x over 3d/6h.
WORKBOOK = {
    "page": (WorkbookPair(60, 5, 14.4), WorkbookPair(6 * 60, 30, 6.0)),
    "ticket": (WorkbookPair(24 * 60, 2 * 60, 3.0), WorkbookPair(3 * 24 * 60, 6 * 60, 1.0)),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    tier: str  # the alert measured: page, ticket or nodata
    incident: Sequence[Phase]  # after the history
    after: Sequence[Phase] = ()  # recovery; empty when nothing recovers
    alerting: dict[str, Any] = field(default_factory=dict)
    vanish_after: int | None = None  # the series stop (no samples) after this many minutes
    # Steady traffic before the incident, long enough to fill the longest window measured.
    history: Phase = HEALTHY
    # The workbook's minutes to detect (None: never) and to reset (None: no recovery measured).
    expect: float | None = None
    expect_reset: float | None = None


def burn(error_ratio: float) -> float:
    return error_ratio / ((100 - OBJECTIVE) / 100)


def detect_minutes(tier: str, error_ratio: float) -> float | None:
    """The workbook: the first pair whose long window crosses its factor."""
    times = [
        pair.long_minutes * pair.factor / burn(error_ratio)
        for pair in WORKBOOK[tier]
        if burn(error_ratio) > pair.factor
    ]
    return min(times) if times else None


def reset_minutes(tier: str, error_ratio: float, lasted: int) -> float:
    """The workbook: the short window of the slowest pair still firing when the incident ends."""
    firing = [
        pair.short_minutes
        for pair in WORKBOOK[tier]
        if burn(error_ratio) * min(lasted, pair.long_minutes) / pair.long_minutes > pair.factor
    ]
    return max(firing)


def _fmt(minutes: float | None) -> str:
    if minutes is None:
        return "never"
    return f"{minutes:.1f} min" if minutes < 2 * 60 else f"{minutes / 60:.1f} h"


def scenarios() -> list[Scenario]:
    return [
        Scenario(
            "100% errors for 10 min (1000x)",
            "page",
            [Phase(10, 1.0, 1.0)],
            [Phase(45, 1.0)],
            expect=detect_minutes("page", 1.0),
            expect_reset=reset_minutes("page", 1.0, 10),
        ),
        Scenario(
            "10% errors for 15 min (100x)",
            "page",
            [Phase(15, 1.0, 0.10)],
            [Phase(20, 1.0)],
            expect=detect_minutes("page", 0.10),
            expect_reset=reset_minutes("page", 0.10, 15),
        ),
        Scenario(
            "2% errors for 60 min (20x)",
            "page",
            [Phase(60, 1.0, 0.02)],
            [Phase(20, 1.0)],
            expect=detect_minutes("page", 0.02),
            expect_reset=reset_minutes("page", 0.02, 60),
        ),
        Scenario(
            "0.5% errors for 16 h (5x)",
            "page",
            [Phase(16 * 60, 1.0, 0.005)],
            expect=detect_minutes("page", 0.005),
        ),
        Scenario(
            "0.5% errors for 16 h (5x)",
            "ticket",
            [Phase(16 * 60, 1.0, 0.005)],
            [Phase(7 * 60, 1.0)],  # longer than the 3d/6h pair's 6h short window
            history=HEALTHY_3D,
            expect=detect_minutes("ticket", 0.005),
            expect_reset=reset_minutes("ticket", 0.005, 16 * 60),
        ),
        Scenario(
            "0.1% errors for 24 h (1x)",
            "page",
            [Phase(24 * 60, 1.0, 0.001)],
            expect=detect_minutes("page", 0.001),
        ),
        Scenario("no traffic for 8 h", "page", [Phase(8 * 60, 0.0)]),
        Scenario("no traffic for 8 h", "nodata", [Phase(8 * 60, 0.0)]),
        Scenario(
            "series vanish",
            "nodata",
            [],
            vanish_after=60,
            expect=15.0,  # 5m lookback, then for: 10m
        ),
        Scenario(
            "0.1 req/s all failing, no guard",
            "page",
            [Phase(120, 0.1, 1.0)],
            history=QUIET,
            expect=detect_minutes("page", 1.0),
        ),
        Scenario(
            "0.1 req/s all failing, minRate 0.5",
            "page",
            [Phase(120, 0.1, 1.0)],
            history=QUIET,
            alerting={"minRate": 0.5},
            expect=None,
        ),
    ]


class Probe:
    """Asks promtool when an alert fired during a scenario, in one run.

    At the end of the run the ALERTS series holds the alert's whole history; subqueries over
    timestamp(ALERTS) give its first and last firing evaluation. The tests expect nothing, so
    promtool fails them and prints what it got: those values are the answer (both pass when the
    alert never fired).
    """

    def __init__(self, binary: Path, workdir: Path, scenario: Scenario) -> None:
        self.binary = binary
        self.workdir = workdir
        resource = availability_slo("fastapi-availability", JOB, alerting=scenario.alerting)
        self.rules = promtool.without_annotations(rule_file([generate(load(resource))]))
        alert = "FastapiAvailability" + ("NoData" if scenario.tier == "nodata" else "")
        self.firing = (
            f'ALERTS{{alertname="{alert}",alertstate="firing",sloalert_tier="{scenario.tier}"}}'
        )
        phases = [scenario.history, *scenario.incident, *scenario.after]
        self.series = fastapi_requests(JOB, phases)
        self.horizon = minutes(phases)
        if scenario.vanish_after is not None:
            self.series = [
                {**s, "values": s["values"] + f" _x{VANISHED_MINUTES}"}
                for s in fastapi_requests(JOB, [Phase(scenario.vanish_after, 1.0)])
            ]
            self.horizon = scenario.vanish_after + VANISHED_MINUTES

    def firing_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The first and the last minute in [start, end] at which the alert was firing."""
        span = f"timestamp({self.firing})[{end - start}m:1m]"
        # One run evaluates the rules once for both questions; promtool may report them in
        # either order, and the first firing is the smaller answer.
        questions = [
            promtool.expr_test(f"{pick}({pick}_over_time({span})) / 60", f"{end}m")
            for pick in ("min", "max")
        ]
        result = promtool.run_rule_tests(
            self.binary,
            self.rules,
            [{"interval": "1m", "input_series": self.series, "promql_expr_test": questions}],
            self.workdir,
        )
        if result.passed:
            return None
        answers = [round(float(got)) for got in _GOT.findall(result.output)]
        if len(answers) != len(questions):
            raise RuntimeError(f"cannot read promtool's answers:\n{result.output}")
        return min(answers), max(answers)


@dataclass(frozen=True)
class Measured:
    detected: float | None  # minutes from onset to firing; None: never fired
    reset: float | None  # minutes from recovery to resolved; None: not measured


def measure(binary: Path, workdir: Path, scenario: Scenario) -> Measured:
    probe = Probe(binary, workdir, scenario)
    onset = scenario.history.minutes if scenario.vanish_after is None else scenario.vanish_after
    span = probe.firing_span(onset, probe.horizon)
    if span is None:
        return Measured(None, None)
    fired, last = span
    reset = None
    if scenario.after:
        if last >= probe.horizon:
            raise RuntimeError(f"{scenario.name}: the {scenario.tier} alert never resolved")
        recovery = onset + minutes(scenario.incident)
        reset = last + 1 - recovery  # resolved at the first evaluation after the last firing
    return Measured(fired - onset, reset)


def _ratio(measured: float | None, expected: float | None) -> str:
    if measured is None or expected is None:
        return "ok" if measured == expected else "MISS"
    return f"{measured / expected:.2f}"


def rule_counts() -> list[tuple[str, int, int]]:
    counts = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        slo = load(yaml.safe_load(path.read_text(encoding="utf-8")))
        if slo.spec.alerting.mode == "burnRate":
            rules = generate(slo)
            counts.append((slo.metadata.name, rules.recording, rules.alerting))
    return counts


def report_rule_counts() -> list[Figure]:
    """Print each burn-rate SLO's rule count against the target; one figure per SLO."""
    print(f"Rules per burn-rate SLO in manifests/slo (target: at most {SLOTH_RULES_PER_SLO})")
    figures = []
    for name, recording, alerting in rule_counts():
        total = recording + alerting
        figure = at_most(
            f"rules of SLO {name}",
            total / SLOTH_RULES_PER_SLO,
            1.0,
            baseline=f"Sloth's {SLOTH_RULES_PER_SLO} rules for one SLO",
            detail=f"{recording} recording + {alerting} alerting = {total}",
        )
        figures.append(figure)
        print(
            f"  {name:24} {recording:2} recording + {alerting} alerting = {total:2}"
            f"  ({total / SLOTH_RULES_PER_SLO:.2f} of Sloth's)"
            f"  {'OK' if figure.met else 'ABOVE'}"
        )
    return figures


def main() -> int:
    binary = find_tool("promtool")
    if binary is None:
        print("promtool not found: run `make setup`", file=sys.stderr)
        return 1
    started = time.monotonic()
    print(
        f"Detection: a {OBJECTIVE}% SLO over {WINDOW} with the default tiers; steady traffic "
        "filling the longest window measured, then the incident; 1m scrape and evaluation; "
        "promtool test rules"
    )
    header = (
        f"{'scenario':36} {'alert':7} {'workbook':>9} {'measured':>9} {'ratio':>6}"
        f" | {'reset: workbook':>16} {'measured':>9}"
    )
    print(header)
    print("-" * len(header))
    measured = scenarios()
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-detection-") as tmp:
        for number, scenario in enumerate(measured):
            if time.monotonic() - started > BUDGET_SECONDS:
                print("stopped: time budget spent", file=sys.stderr)
                return 1
            result = measure(binary, Path(tmp) / str(number), scenario)
            expected, reset = scenario.expect, scenario.expect_reset
            print(
                f"{scenario.name:36} {scenario.tier:7} {_fmt(expected):>9}"
                f" {_fmt(result.detected):>9} {_ratio(result.detected, expected):>6}"
                f" | {'<= ' + _fmt(reset) if reset is not None else '-':>16}"
                f" {_fmt(result.reset) if result.reset is not None else '-':>9}"
            )
            if expected and result.detected is not None:
                figures.append(
                    Figure(
                        name=f"{scenario.name} ({scenario.tier}): time to detect",
                        value=result.detected / expected,
                        baseline=f"the SRE workbook's {_fmt(expected)}",
                        target=None,
                        detail=f"measured {_fmt(result.detected)}",
                    )
                )
    print(f"({len(measured)} promtool runs, one per scenario, {time.monotonic() - started:.0f} s)")
    print()
    figures += report_rule_counts()
    return finish("detection", figures, seconds=time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
