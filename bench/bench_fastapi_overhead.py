"""What Prometheus instrumentation costs the FastDining API in requests per second.

Two real uvicorn processes on loopback serve the same app, one instrumented and one built with
FASTDINING_METRICS_ENABLED=false; wrk drives GET /ping (the worst case: the endpoint does
nothing, so the instrumentation is all the work there is) and then a real /recommendations
query on each, in interleaved rounds (ABBA) so
that a noisy neighbour on the shared machine hurts both sides alike. Each round gives a ratio
of two runs seconds apart; the reported ratio is the median over rounds.

Wall-clock throughput on a shared 2-core machine swings with everyone else's load, so the
script also reports requests per CPU-second of the server process: the same ratio, measured
by what the server itself spent, which neighbours barely move.

Access logs are off on both sides: they cost the same either way and would hide the
instrumentation's share. Run from the repository root (about 70 s):
    uv run python bench/bench_fastapi_overhead.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from sloalert.exporters import FASTAPI_REQUESTS
from testkit.load import run_wrk
from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.scrape import scrape, total

ENDPOINTS = ("/ping", "/recommendations?cuisine=korean&max_price=40&limit=5")
ROUNDS = 3
SECONDS = 4
WARMUP_SECONDS = 1
CONNECTIONS = 16
TARGET_RATIO = 0.85
SIDES = ("instrumented", "bare")


@dataclass(frozen=True)
class Run:
    requests: int
    requests_per_second: float
    server_cpu_seconds: float

    @property
    def requests_per_cpu_second(self) -> float:
        return self.requests / self.server_cpu_seconds


def start(stack: ExitStack, name: str, logs: Path) -> RunningServer:
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    command = [sys.executable, "-m", "uvicorn", "fastdining_api.app:app"]
    command += ["--host", LOOPBACK, "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"]
    return stack.enter_context(
        run_server(
            command,
            ready_url=f"{base_url}/healthz",
            base_url=base_url,
            log_path=logs / f"{name}.log",
            env={"FASTDINING_METRICS_ENABLED": str(name == "instrumented").lower()},
        )
    )


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def load(server: RunningServer, endpoint: str, seconds: int) -> Run:
    process = psutil.Process(server.process.pid)
    before = cpu_seconds(process)
    result = run_wrk(f"{server.base_url}{endpoint}", seconds=seconds, connections=CONNECTIONS)
    spent = cpu_seconds(process) - before
    if result.non_2xx:
        raise RuntimeError(f"{result.non_2xx} failed requests against {server.base_url}")
    return Run(result.requests, result.requests_per_second, spent)


def check_sides(instrumented: RunningServer, bare: RunningServer, runs: list[Run]) -> None:
    """Make sure we measured what we meant to: one side counts every request, one cannot."""
    counted = total(
        scrape(f"{instrumented.base_url}/metrics"), FASTAPI_REQUESTS.name, {"handler": "/ping"}
    )
    requests = sum(run.requests for run in runs)
    if counted < requests:
        raise RuntimeError(f"instrumented app counted {counted:.0f} of {requests} requests")
    if httpx.get(f"{bare.base_url}/metrics", timeout=5.0).status_code != 404:
        raise RuntimeError("the bare app serves /metrics: it is instrumented")


def measure(servers: dict[str, RunningServer], endpoint: str) -> dict[str, list[Run]]:
    for server in servers.values():
        load(server, endpoint, WARMUP_SECONDS)
    runs: dict[str, list[Run]] = {name: [] for name in SIDES}
    for round_number in range(ROUNDS):
        order = SIDES if round_number % 2 == 0 else SIDES[::-1]
        for name in order:
            runs[name].append(load(servers[name], endpoint, SECONDS))
    return runs


def median_ratio(runs: dict[str, list[Run]], metric: str) -> tuple[float, list[float]]:
    ratios = [
        getattr(inst, metric) / getattr(bare, metric)
        for inst, bare in zip(runs["instrumented"], runs["bare"], strict=True)
    ]
    return statistics.median(ratios), ratios


def report(endpoint: str, runs: dict[str, list[Run]]) -> None:
    for metric, unit in (
        ("requests_per_second", "req/s"),
        ("requests_per_cpu_second", "req per server CPU-second"),
    ):
        print(f"GET {endpoint}, {unit} (median of {ROUNDS} runs of {SECONDS} s):")
        for name in SIDES:
            values = [getattr(run, metric) for run in runs[name]]
            listed = ", ".join(f"{value:,.0f}" for value in values)
            print(f"  {name:>12}: {statistics.median(values):>9,.0f}  ({listed})")
        ratio, ratios = median_ratio(runs, metric)
        rounds = ", ".join(f"{value:.2f}" for value in ratios)
        verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
        print(f"  ratio instrumented/bare: {ratio:.3f}x  (rounds: {rounds})")
        print(f"  target >= {TARGET_RATIO}x: {verdict}")


def main() -> int:
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fastapi-")))
        servers = {name: start(stack, name, logs) for name in SIDES}
        for endpoint in ENDPOINTS:
            runs = measure(servers, endpoint)
            if endpoint == "/ping":
                check_sides(servers["instrumented"], servers["bare"], runs["instrumented"])
            report(endpoint, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
