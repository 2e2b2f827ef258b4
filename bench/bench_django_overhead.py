"""What django-prometheus costs the AIRestaurant site in requests per second.

Two real gunicorn processes on loopback serve the same site with the same config file (one
worker, four threads), one instrumented and one with AIRESTAURANT_METRICS_ENABLED=false (no
metrics middlewares, no /metrics, Django's own database and cache backends). wrk drives
GET /ping, a view without database or cache, so the ratio isolates the middlewares' cost;
rounds are interleaved (ABBA) and each side also gets a requests-per-CPU-second figure that
the shared machine's other load barely moves (see testkit.overhead).

Access logs are off on both sides: they cost the same either way and would hide the
instrumentation's share. Run from the repository root (about a minute):
    uv run python bench/bench_django_overhead.py
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx
from sloalert.exporters import DJANGO_RESPONSES
from testkit.airestaurant_server import airestaurant_env, serve_airestaurant
from testkit.overhead import BARE, INSTRUMENTED, SIDES, interleaved_runs, report
from testkit.processes import RunningServer, free_port
from testkit.scrape import scrape, total

PATH = "/ping"
ROUNDS = 4  # this VM is noisy: single rounds range from 0.7x to 0.9x
SECONDS = 5
CONNECTIONS = 16
TARGET_RATIO = 0.85


def start(stack: ExitStack, name: str, work_dir: Path) -> RunningServer:
    data_dir = work_dir / name
    data_dir.mkdir()
    env = airestaurant_env(
        data_dir,
        free_port(),
        AIRESTAURANT_METRICS_ENABLED=str(name == INSTRUMENTED).lower(),
        AIRESTAURANT_ACCESS_LOG="false",
        AIRESTAURANT_LOG_LEVEL="WARNING",
    )
    return stack.enter_context(serve_airestaurant(env, work_dir / f"{name}.log"))


def check_sides(instrumented: RunningServer, bare: RunningServer, requests: int) -> None:
    """Make sure we measured what we meant to: one side counts every request, one cannot."""
    families = scrape(f"{instrumented.base_url}/metrics")
    counted = total(families, DJANGO_RESPONSES.name, {"view": "ping", "status": "200"})
    if counted < requests:
        raise RuntimeError(f"the instrumented site counted {counted:.0f} of {requests} requests")
    if httpx.get(f"{bare.base_url}/metrics", timeout=5.0).status_code != 404:
        raise RuntimeError("the bare site serves /metrics: it is instrumented")


def main() -> int:
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-django-")))
        servers = {name: start(stack, name, work_dir) for name in SIDES}
        runs, served = interleaved_runs(
            servers, PATH, rounds=ROUNDS, seconds=SECONDS, connections=CONNECTIONS
        )
        check_sides(servers[INSTRUMENTED], servers[BARE], served[INSTRUMENTED])
    report(runs, request=f"GET {PATH}", seconds=SECONDS, target=TARGET_RATIO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
