"""Write bench/RESULTS.md from the results the benchmarks just wrote (bench/results/*.json).

`make bench` runs every bench/bench_*.py, then this. Each figure is shown as its benchmark
stated it: a ratio against a baseline measured in the same run (or a value against its
budget), the target beside it and whether it was met, under the machine it ran on. A
benchmark that wrote no result (it failed before the end) is listed as such.

Exits 1 when a figure missed its target or a benchmark has no result; 0 otherwise.
    uv run python bench/report.py
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from testkit import bench_results
from testkit.bench_results import BenchResult, Figure

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
WHOLE_PATH = "whole-path"  # bench_whole_path.py's result, also written by tests/pipeline


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


def _measured(figure: Figure) -> str:
    unit = "x" if figure.unit == "x" else f" {figure.unit}"
    return f"{figure.value:.3g}{unit}"


def _verdict(figure: Figure) -> str:
    if figure.target is None:
        return "(a figure, no target)"
    return "met" if figure.met else "**MISSED**"


def render(results: list[BenchResult], scripts: list[str], written_at: datetime) -> str:
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
        "its budget). A missed target makes `make bench` exit non-zero.",
        "",
        f"**{len(targeted) - len(missed)} of {len(targeted)} targets met.**",
        "",
        *_whole_path_line(by_name),
        "| Benchmark | Figure | Measured | Baseline (same run) | Target | |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for figure in result.figures:
            lines.append(
                f"| {result.bench} | {figure.name} | {_measured(figure)} | {figure.baseline} | "
                f"{figure.target or '-'} | {_verdict(figure)} |"
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
    return "\n".join(lines) + "\n"


def _whole_path_line(by_name: dict[str, BenchResult]) -> list[str]:
    result = by_name.get(WHOLE_PATH)
    if result is None or not result.figures:
        return []
    figure = result.figures[0]
    return [f"**Whole alert path**, {figure.name}: {_measured(figure)} ({figure.detail}).", ""]


def _bench_name(script: str) -> str:
    """bench/bench_fastapi_overhead.py -> fastapi-overhead (the name its result uses)."""
    return Path(script).stem.removeprefix("bench_").replace("_", "-")


def main() -> int:
    results = bench_results.read_all()
    scripts = sorted(str(p.relative_to(BENCH_DIR.parent)) for p in BENCH_DIR.glob("bench_*.py"))
    RESULTS_FILE.write_text(render(results, scripts, datetime.now(UTC)), encoding="utf-8")
    print(f"wrote {RESULTS_FILE}")
    names = {result.bench for result in results}
    absent = [script for script in scripts if _bench_name(script) not in names]
    missed = [f"{r.bench}: {f.name}" for r in results for f in r.figures if not f.met]
    for line in [*(f"missed: {m}" for m in missed), *(f"no result: {a}" for a in absent)]:
        print(f"  {line}", file=sys.stderr)
    return 1 if missed or absent else 0


if __name__ == "__main__":
    sys.exit(main())
