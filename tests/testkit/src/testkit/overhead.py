"""What instrumentation costs: two running servers of one app, compared under the same load.

wrk drives the same path on an instrumented server and a bare one, in interleaved rounds
(ABBA), so a noisy neighbour on the shared machine hurts both sides alike. Each round yields
a ratio of two runs seconds apart; the reported ratio is the median over rounds.

Wall-clock throughput on a shared machine swings with everyone else's load, so each run also
records the CPU time the server's whole process tree spent (gunicorn's master and workers):
requests per CPU-second give the same ratio, measured by what the server itself spent.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass

import psutil

from testkit.load import run_wrk
from testkit.processes import RunningServer

INSTRUMENTED = "instrumented"
BARE = "bare"
SIDES = (INSTRUMENTED, BARE)


@dataclass(frozen=True)
class Run:
    requests: int
    requests_per_second: float
    server_cpu_seconds: float

    @property
    def requests_per_cpu_second(self) -> float:
        return self.requests / self.server_cpu_seconds


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and all its descendants."""
    root = psutil.Process(pid)
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        times = process.cpu_times()
        total += times.user + times.system
    return total


def load(server: RunningServer, path: str, *, seconds: int, connections: int) -> Run:
    """One bounded wrk run against `path`; any failed request aborts the benchmark."""
    before = tree_cpu_seconds(server.process.pid)
    result = run_wrk(f"{server.base_url}{path}", seconds=seconds, connections=connections)
    spent = tree_cpu_seconds(server.process.pid) - before
    if result.non_2xx:
        raise RuntimeError(f"{result.non_2xx} failed requests against {server.base_url}{path}")
    return Run(result.requests, result.requests_per_second, spent)


def interleaved_runs(
    servers: Mapping[str, RunningServer],
    path: str,
    *,
    rounds: int,
    seconds: int,
    warmup_seconds: int = 1,
    connections: int = 16,
) -> tuple[dict[str, list[Run]], dict[str, int]]:
    """Runs per side in ABBA order, and how many requests each side served in all."""
    served = {
        name: load(servers[name], path, seconds=warmup_seconds, connections=connections).requests
        for name in SIDES
    }
    runs: dict[str, list[Run]] = {name: [] for name in SIDES}
    for round_number in range(rounds):
        order = SIDES if round_number % 2 == 0 else SIDES[::-1]
        for name in order:
            run = load(servers[name], path, seconds=seconds, connections=connections)
            runs[name].append(run)
            served[name] += run.requests
    return runs, served


def median_ratio(runs: Mapping[str, list[Run]], metric: str) -> tuple[float, list[float]]:
    ratios = [
        getattr(instrumented, metric) / getattr(bare, metric)
        for instrumented, bare in zip(runs[INSTRUMENTED], runs[BARE], strict=True)
    ]
    return statistics.median(ratios), ratios


def report(
    runs: Mapping[str, list[Run]], *, request: str, seconds: int, target: float
) -> dict[str, float]:
    """Print both sides and their ratio per measure; return the ratio per measure."""
    ratios: dict[str, float] = {}
    for metric, unit in (
        ("requests_per_second", "req/s"),
        ("requests_per_cpu_second", "req per server CPU-second"),
    ):
        print(f"{request}, {unit} (median of {len(runs[BARE])} runs of {seconds} s):")
        for name in SIDES:
            values = [getattr(run, metric) for run in runs[name]]
            listed = ", ".join(f"{value:,.0f}" for value in values)
            print(f"  {name:>12}: {statistics.median(values):>9,.0f}  ({listed})")
        ratio, per_round = median_ratio(runs, metric)
        rounds = ", ".join(f"{value:.2f}" for value in per_round)
        verdict = "meets" if ratio >= target else "BELOW"
        print(f"  ratio instrumented/bare: {ratio:.3f}x  (rounds: {rounds})")
        print(f"  target >= {target}x: {verdict}")
        ratios[metric] = ratio
    return ratios
