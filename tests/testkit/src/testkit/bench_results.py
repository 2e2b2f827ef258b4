"""What a benchmark measured, kept as a JSON file that `bench/report.py` turns into RESULTS.md.

Every benchmark states each figure as a ratio against a baseline it measured in the same run
(or, for an absolute budget, the measured value against the budget), with its target and
whether it was met. `finish()` writes the file and gives the exit code: 1 when any figure
missed its target, so `make bench` fails after every script has run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from testkit.tools import REPO_ROOT

RESULTS_DIR_ENV = "BENCH_RESULTS_DIR"
DEFAULT_RESULTS_DIR = REPO_ROOT / "bench" / "results"


class Figure(BaseModel):
    """One measured figure and the target it is held to."""

    name: str = Field(description="what was measured, e.g. 'GET /ping requests per CPU-second'")
    value: float = Field(description="the figure compared with the target (a ratio if baselined)")
    unit: str = Field(default="x", description="'x' for a ratio to the baseline, else a unit")
    baseline: str = Field(description="what it is compared with, measured in the same run")
    target: str | None = Field(
        description="the target as text, e.g. '>= 0.85x'; None: a figure only"
    )
    met: bool = True
    detail: str = Field(default="", description="the raw numbers behind the figure")
    spread: str = Field(
        default="",
        description="how much it varied within the run, e.g. 'p50 1.2x, p99 1.7x' or "
        "'quartiles 0.92-0.99x'; empty when it is a single measurement",
    )


class BenchResult(BaseModel):
    bench: str
    figures: list[Figure]
    finished_at: float = Field(default_factory=time.time)
    seconds: float | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def met(self) -> bool:
        return all(figure.met for figure in self.figures)


def at_least(name: str, value: float, target: float, *, baseline: str, **extra: str) -> Figure:
    """A ratio that must be at least `target` (e.g. instrumented/bare throughput)."""
    return Figure(
        name=name,
        value=value,
        baseline=baseline,
        target=f">= {target:g}x",
        met=value >= target,
        **extra,
    )


def at_most(
    name: str, value: float, target: float, *, baseline: str, unit: str = "x", **extra: str
) -> Figure:
    """A figure that must stay at or under `target` (a ratio, or a value in `unit`)."""
    shown = f"{target:g}x" if unit == "x" else f"{target:g} {unit}"
    return Figure(
        name=name,
        value=value,
        unit=unit,
        baseline=baseline,
        target=f"<= {shown}",
        met=value <= target,
        **extra,
    )


def results_dir() -> Path:
    return Path(os.environ.get(RESULTS_DIR_ENV) or DEFAULT_RESULTS_DIR)


def write(result: BenchResult) -> Path:
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.bench}.json"
    path.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return path


def finish(
    bench: str,
    figures: Sequence[Figure],
    *,
    seconds: float | None = None,
    notes: Sequence[str] = (),
) -> int:
    """Write the result, print a verdict line per figure, and return the exit code."""
    result = BenchResult(bench=bench, figures=list(figures), seconds=seconds, notes=list(notes))
    path = write(result)
    for figure in result.figures:
        verdict = "figure" if figure.target is None else "met" if figure.met else "MISSED"
        target = figure.target or "no target"
        print(f"  [{verdict}] {figure.name}: {measured(figure)} ({target})")
    print(f"  result written to {path}")
    return 0 if result.met else 1


def read_all(folder: Path | None = None) -> list[BenchResult]:
    """Every result in the folder, by bench name."""
    folder = folder or results_dir()
    if not folder.is_dir():
        return []
    return [
        BenchResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.json"))
    ]


def measured(figure: Figure) -> str:
    """The figure as printed and in RESULTS.md: four significant digits and its unit."""
    unit = "x" if figure.unit == "x" else f" {figure.unit}"
    return f"{figure.value:.4g}{unit}"
