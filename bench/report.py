"""Write bench/RESULTS.md from the results the benchmarks just wrote (bench/results/*.json).

`make bench` runs every bench/bench_*.py, then this. Each figure is shown as its benchmark
stated it: a ratio against a baseline measured in the same run (or a value against its
budget), the target beside it and whether it was met, under the machine it ran on. A
benchmark that wrote no result (it failed before the end) is listed as such.

Beside each figure: its value in the previous run (read from the RESULTS.md being replaced,
the committed one in a fresh checkout), the change since, and its spread within this run when
the benchmark states one. Hand-written sections live in bench/notes/*.md (one file per topic,
e.g. bench/notes/relay.md: "where the relay's time goes"); they are copied under "Notes", in
file name order, at every run. A target that differs from the previous run's must be explained
there: a note naming the figure (its exact name, as in the table), else the report fails.

Exits 1 when a figure missed its target, a benchmark has no result, or a target changed without
a note; 0 otherwise.
    uv run python bench/report.py
"""

from __future__ import annotations

import os
import platform
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from testkit import bench_results
from testkit.bench_results import BenchResult, Figure, measured

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
NOTES_DIR = BENCH_DIR / "notes"
WHOLE_PATH = "whole-path"  # bench_whole_path.py's result, also written by tests/pipeline
TABLE_HEADER = (
    "| Benchmark | Figure | Measured | Previous run | Change | Spread in this run "
    "| Baseline (same run) | Target | |"
)


@dataclass(frozen=True)
class Previous:
    """A figure as the previous RESULTS.md gave it."""

    measured: str
    target: str


def read_previous(text: str) -> dict[tuple[str, str], Previous]:
    """(benchmark, figure) -> what the previous report's table said; tables of this report's
    layout and of the earlier one (Benchmark, Figure, Measured, Baseline, Target, verdict)."""
    found: dict[tuple[str, str], Previous] = {}
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not header:
            header = cells
            continue
        if set(cells[0]) <= {"-"} or "Benchmark" not in header or "Target" not in header:
            continue
        row = dict(zip(header, cells, strict=False))
        found[(row["Benchmark"], row["Figure"])] = Previous(row["Measured"], row["Target"])
    return found


def _number(measured: str) -> tuple[float, str] | None:
    matched = re.match(r"^(-?[0-9.]+(?:e[-+]?[0-9]+)?)\s*(.*)$", measured)
    if not matched:
        return None
    return float(matched.group(1)), matched.group(2)


def change(figure: Figure, previous: Previous | None) -> str:
    """The change since the previous run, in percent of the previous value."""
    before = _number(previous.measured) if previous else None
    if before is None or before[1] != _unit(figure) or before[0] == 0:
        return "-"
    return f"{(figure.value - before[0]) / before[0] * 100:+.0f}%"


def _unit(figure: Figure) -> str:
    return "x" if figure.unit == "x" else figure.unit


def read_notes(folder: Path = NOTES_DIR) -> list[str]:
    """The hand-written sections, each file as it is, in file name order."""
    if not folder.is_dir():
        return []
    return [path.read_text(encoding="utf-8").strip() for path in sorted(folder.glob("*.md"))]


def unexplained_target_changes(
    results: list[BenchResult], previous: dict[tuple[str, str], Previous], notes: list[str]
) -> list[str]:
    """Figures whose target is not the previous run's, and that no note names."""
    text = "\n".join(notes)
    return [
        f"{result.bench}: {figure.name} ({previous[key].target} -> {figure.target or '-'})"
        for result in results
        for figure in result.figures
        if (key := (result.bench, figure.name)) in previous
        and previous[key].target != (figure.target or "-")
        and figure.name not in text
    ]


def machine() -> str:
    """The machine in one line: CPU model, cores, memory, OS, Python, load right now."""
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU"
    memory_kb = _proc_field("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024**2:.0f} GiB" if memory_kb else "unknown memory"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; load average {load} when this was written"
    )


def _proc_field(path: str, name: str) -> str | None:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def _verdict(figure: Figure) -> str:
    if figure.target is None:
        return "(a figure, no target)"
    return "met" if figure.met else "**MISSED**"


def render(
    results: list[BenchResult],
    scripts: list[str],
    written_at: datetime,
    previous: dict[tuple[str, str], Previous] | None = None,
    notes: list[str] | None = None,
) -> str:
    previous = previous or {}
    by_name = {result.bench: result for result in results}
    targeted = [f for r in results for f in r.figures if f.target is not None]
    missed = [f for f in targeted if not f.met]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` at {written_at:%Y-%m-%d %H:%M} UTC.",
        "",
        f"Machine: {machine()}.",
        "",
        "Each figure is a ratio against a baseline measured in the same run (or a value against "
        "its budget where nothing to compare with exists). A missed target makes `make bench` "
        'exit non-zero. "Previous run" is the figure in the RESULTS.md this one replaced; '
        '"Spread" is how much it varied within this run, where the benchmark has several '
        "samples. A target that changed is explained under Notes (bench/notes/*.md).",
        "",
        f"**{len(targeted) - len(missed)} of {len(targeted)} targets met.**",
        "",
        *_whole_path_line(by_name),
        TABLE_HEADER,
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for figure in result.figures:
            before = previous.get((result.bench, figure.name))
            lines.append(
                f"| {result.bench} | {figure.name} | {measured(figure)} | "
                f"{before.measured if before else '-'} | {change(figure, before)} | "
                f"{figure.spread or '-'} | {figure.baseline} | {figure.target or '-'} | "
                f"{_verdict(figure)} |"
            )
    lines += ["", "## Details", ""]
    for result in results:
        took = f" ({result.seconds:.0f} s)" if result.seconds is not None else ""
        lines.append(f"- **{result.bench}**{took}")
        lines += [f"  - {f.name}: {f.detail}" for f in result.figures if f.detail]
        lines += [f"  - {note}" for note in result.notes]
    absent = [script for script in scripts if _bench_name(script) not in by_name]
    if absent:
        lines += ["", "## Benchmarks without a result (they failed before writing one)", ""]
        lines += [f"- {script}" for script in absent]
    if notes:
        lines += ["", "## Notes", "", "Hand-written, from bench/notes/*.md.", ""]
        for note in notes:
            lines += [note, ""]
        lines.pop()
    return "\n".join(lines) + "\n"


def _whole_path_line(by_name: dict[str, BenchResult]) -> list[str]:
    result = by_name.get(WHOLE_PATH)
    if result is None or not result.figures:
        return []
    figure = result.figures[0]
    return [f"**Whole alert path**, {figure.name}: {measured(figure)} ({figure.detail}).", ""]


def _bench_name(script: str) -> str:
    """bench/bench_fastapi_overhead.py -> fastapi-overhead (the name its result uses)."""
    return Path(script).stem.removeprefix("bench_").replace("_", "-")


def main() -> int:
    results = bench_results.read_all()
    scripts = sorted(str(p.relative_to(BENCH_DIR.parent)) for p in BENCH_DIR.glob("bench_*.py"))
    previous = read_previous(
        RESULTS_FILE.read_text(encoding="utf-8") if RESULTS_FILE.is_file() else ""
    )
    notes = read_notes()
    written = render(results, scripts, datetime.now(UTC), previous, notes)
    RESULTS_FILE.write_text(written, encoding="utf-8")
    print(f"wrote {RESULTS_FILE}")
    names = {result.bench for result in results}
    absent = [script for script in scripts if _bench_name(script) not in names]
    missed = [f"{r.bench}: {f.name}" for r in results for f in r.figures if not f.met]
    unexplained = unexplained_target_changes(results, previous, notes)
    for line in [
        *(f"missed: {m}" for m in missed),
        *(f"no result: {a}" for a in absent),
        *(
            f"target changed without a note in {NOTES_DIR.name}/ naming the figure: {u}"
            for u in unexplained
        ),
    ]:
        print(f"  {line}", file=sys.stderr)
    return 1 if missed or absent or unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
