"""How fast the generated burn-rate alerts detect and forget incidents, next to the SRE workbook.

A 99.9%-over-30d availability SLO with the default tiers (fastapi-availability preset), fed
synthetic traffic of 1 request a second after six healthy hours, sampled and evaluated every
minute by the real promtool (deterministic: no clocks, no sleeps). For each scenario the time
from onset to the alert firing, and from recovery to it resolving, is found by binary search
over evaluation times, each probe one `promtool test rules` run asking whether the alert fires.

The workbook's expectation, computed here from the same tiers: an error ratio e burns the budget
at e / (1 - objective) times the sustainable rate; a pair (long window L, factor f) detects after
L * f / burn, and resets within its short window once the incident ends. Also printed: the rule
count of every burn-rate SLO in manifests/slo, against the 16 rules Sloth generates for one SLO.

Run from the repository root (about a minute):
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
from sloalert import burnrate, durations
from sloalert.generator import generate
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool
from testkit.slo_traffic import Phase, availability_slo, fastapi_requests, minutes
from testkit.tools import find_tool

JOB = "fastapi"
OBJECTIVE = 99.9
WINDOW = "30d"
HEALTHY = Phase(6 * 60, 1.0, 0.0)  # fills the page tier's longest window (6h)
HEALTHY_3D = Phase(3 * 24 * 60, 1.0, 0.0)  # fills the ticket tier's longest window (3d)
QUIET = Phase(6 * 60, 0.1, 0.0)
SLOTH_RULES_PER_SLO = 16
MANIFESTS = Path(__file__).resolve().parents[1] / "manifests" / "slo"
BUDGET_SECONDS = 170  # the bench must finish within 3 minutes
VANISHED_MINUTES = 120
_GOT = re.compile(r"got: \{\} ([-+0-9.eE]+)")


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
    return error_ratio / burnrate.budget(OBJECTIVE)


def detect_minutes(tier: str, error_ratio: float) -> float | None:
    """The workbook: the first pair whose long window crosses its factor."""
    times = [
        durations.parse_ms(c.long) / 60000 * c.factor / burn(error_ratio)
        for c in burnrate.conditions(tier, WINDOW)
        if burn(error_ratio) > c.factor
    ]
    return min(times) if times else None


def reset_minutes(tier: str, error_ratio: float, lasted: int) -> float:
    """The workbook: the short window of the slowest pair still firing when the incident ends."""
    firing = [
        durations.parse_ms(c.short) / 60000
        for c in burnrate.conditions(tier, WINDOW)
        if burn(error_ratio)
        * min(lasted, durations.parse_ms(c.long) / 60000)
        / (durations.parse_ms(c.long) / 60000)
        > c.factor
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
            history=HEALTHY_3D,
            expect=detect_minutes("ticket", 0.005),
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
    """Asks promtool when an alert fired during a scenario, in one run per question.

    At the end of the run the ALERTS series holds the alert's whole history; a subquery over
    timestamp(ALERTS) gives its first or last firing evaluation. The test expects nothing, so
    promtool fails it and prints what it got: that value is the answer ("nil": never fired).
    """

    def __init__(self, binary: Path, workdir: Path, scenario: Scenario) -> None:
        self.binary = binary
        self.workdir = workdir
        self.runs = 0
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

    def firing_minute(self, start: int, end: int, *, first: bool) -> int | None:
        """The first (or last) minute in [start, end] at which the alert was firing."""
        pick = "min_over_time" if first else "max_over_time"
        expr = f"min({pick}(timestamp({self.firing})[{end - start}m:1m])) / 60"
        self.runs += 1
        result = promtool.run_rule_tests(
            self.binary,
            self.rules,
            [
                {
                    "interval": "1m",
                    "input_series": self.series,
                    "promql_expr_test": [promtool.expr_test(expr, f"{end}m")],
                }
            ],
            self.workdir,
        )
        if result.passed:
            return None
        got = _GOT.search(result.output)
        if got is None:
            raise RuntimeError(f"cannot read promtool's answer:\n{result.output}")
        return round(float(got.group(1)))


@dataclass(frozen=True)
class Measured:
    detected: float | None  # minutes from onset to firing; None: never fired
    reset: float | None  # minutes from recovery to resolved; None: not measured
    runs: int


def measure(binary: Path, workdir: Path, scenario: Scenario) -> Measured:
    probe = Probe(binary, workdir, scenario)
    onset = scenario.history.minutes if scenario.vanish_after is None else scenario.vanish_after
    fired = probe.firing_minute(onset, probe.horizon, first=True)
    if fired is None:
        return Measured(None, None, probe.runs)
    reset = None
    if scenario.after:
        recovery = onset + minutes(scenario.incident)
        last = probe.firing_minute(onset, probe.horizon, first=False)
        if last is None or last >= probe.horizon:
            raise RuntimeError(f"{scenario.name}: the {scenario.tier} alert never resolved")
        reset = last + 1 - recovery  # resolved at the first evaluation after the last firing
    return Measured(fired - onset, reset, probe.runs)


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
    runs = 0
    with tempfile.TemporaryDirectory(prefix="bench-detection-") as tmp:
        for number, scenario in enumerate(scenarios()):
            if time.monotonic() - started > BUDGET_SECONDS:
                print("stopped: time budget spent", file=sys.stderr)
                return 1
            result = measure(binary, Path(tmp) / str(number), scenario)
            runs += result.runs
            expected, reset = scenario.expect, scenario.expect_reset
            print(
                f"{scenario.name:36} {scenario.tier:7} {_fmt(expected):>9}"
                f" {_fmt(result.detected):>9} {_ratio(result.detected, expected):>6}"
                f" | {'<= ' + _fmt(reset) if reset is not None else '-':>16}"
                f" {_fmt(result.reset) if result.reset is not None else '-':>9}"
            )
    print(f"({runs} promtool runs, {time.monotonic() - started:.0f} s)")
    print()
    print(f"Rules per burn-rate SLO in manifests/slo (Sloth: {SLOTH_RULES_PER_SLO})")
    for name, recording, alerting in rule_counts():
        total = recording + alerting
        print(
            f"  {name:24} {recording:2} recording + {alerting} alerting = {total:2}"
            f"  ({total / SLOTH_RULES_PER_SLO:.2f} of Sloth's)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
