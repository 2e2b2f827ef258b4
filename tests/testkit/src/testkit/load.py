"""Drive HTTP load with wrk, a real load generator in its own process, for benchmarks."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from testkit.tools import find_tool

_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_REQUESTS = re.compile(r"(\d+) requests in")


@dataclass(frozen=True)
class LoadResult:
    requests: int
    requests_per_second: float
    non_2xx: int


def run_wrk(url: str, *, seconds: int = 5, connections: int = 16, threads: int = 1) -> LoadResult:
    """Run wrk against `url` for a bounded time and return what it measured."""
    wrk = find_tool("wrk")
    if wrk is None:
        raise RuntimeError("wrk not found: run `make setup` (it installs Debian's wrk)")
    output = subprocess.run(
        [str(wrk), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    rps = _RPS.search(output)
    total = _REQUESTS.search(output)
    if rps is None or total is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    return LoadResult(
        requests=int(total.group(1)),
        requests_per_second=float(rps.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )
