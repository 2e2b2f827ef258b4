"""What Prometheus instrumentation costs the FastDining API in requests per second.

Two real uvicorn processes on loopback serve the same app, one instrumented and one built with
FASTDINING_METRICS_ENABLED=false. wrk drives GET /ping (the worst case: the endpoint does
nothing, so the instrumentation is all the work there is), then a real /recommendations
query, on both, in interleaved rounds; each side also gets a requests-per-CPU-second figure
that the shared machine's other load barely moves (see testkit.overhead).

Access logs are off on both sides: they cost the same either way and would hide the
instrumentation's share. Run from the repository root (about a minute):
    uv run python bench/bench_fastapi_overhead.py
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx
from sloalert.exporters import FASTAPI_REQUESTS
from testkit.overhead import BARE, INSTRUMENTED, SIDES, interleaved_runs, report
from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.scrape import scrape, total

PATHS = ("/ping", "/recommendations?cuisine=korean&max_price=40&limit=5")
ROUNDS = 5  # this VM is noisy: single rounds range from 0.6x to 0.9x
SECONDS = 4
CONNECTIONS = 16
TARGET_RATIO = 0.85


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
            env={"FASTDINING_METRICS_ENABLED": str(name == INSTRUMENTED).lower()},
        )
    )


def check_sides(instrumented: RunningServer, bare: RunningServer, requests: int) -> None:
    """Make sure we measured what we meant to: one side counts every request, one cannot."""
    families = scrape(f"{instrumented.base_url}/metrics")
    counted = total(families, FASTAPI_REQUESTS.name, {"handler": "/ping", "status": "2xx"})
    if counted < requests:
        raise RuntimeError(f"the instrumented app counted {counted:.0f} of {requests} requests")
    if httpx.get(f"{bare.base_url}/metrics", timeout=5.0).status_code != 404:
        raise RuntimeError("the bare app serves /metrics: it is instrumented")


def main() -> int:
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fastapi-")))
        servers = {name: start(stack, name, logs) for name in SIDES}
        for path in PATHS:
            runs, served = interleaved_runs(
                servers, path, rounds=ROUNDS, seconds=SECONDS, connections=CONNECTIONS
            )
            if path == "/ping":
                check_sides(servers[INSTRUMENTED], servers[BARE], served[INSTRUMENTED])
            report(runs, request=f"GET {path}", seconds=SECONDS, target=TARGET_RATIO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
