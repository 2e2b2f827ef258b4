"""What django-prometheus costs the AIRestaurant site: CPU time per request, in process.

Django's settings are process-global, so each side is a worker process of its own, built by
`airestaurant.wsgi` from the same environment but AIRESTAURANT_METRICS_ENABLED: instrumented
as the site ships (django-prometheus' middlewares, /metrics, its database and cache backends)
or bare (none of them). Each worker calls the WSGI handler directly with a prepared environ
(no gunicorn, no socket, no load generator) and times its own CPU clock per batch; this
process alternates batches between the two (ABBA) over many rounds. The figure is the bare
site's CPU time per request over the instrumented one's (the instrumented server's throughput
ratio when CPU is what limits it): the median over rounds, with its spread.

GET /ping is a view without database or cache, so the ratio isolates the middlewares' cost.
`--profile` adds pyinstrument's view of where the instrumented site's time goes (README: the
"Instrumentation overhead" section). Run from the repository root (about a minute):
    uv run python bench/bench_django_overhead.py [--profile]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from airestaurant.config import DEFAULT_PORT
from sloalert.exporters import DJANGO_RESPONSES
from testkit.airestaurant_server import airestaurant_env
from testkit.bench_results import finish
from testkit.overhead import (
    BARE,
    INSTRUMENTED,
    SIDES,
    WsgiWorker,
    cpu_spread,
    held_to_target,
    interleaved,
    print_medians,
    wsgi_worker,
)
from testkit.processes import LOOPBACK
from testkit.scrape import parse, total

APP = "airestaurant.wsgi:application"
PATH = "/ping"
HOST = f"{LOOPBACK}:{DEFAULT_PORT}"
ROUNDS = 200
# Per side and round: about 25-45 ms of CPU, short enough that what else runs on the machine
# meanwhile hits both sides of a round alike; 300 requests gave tighter quartiles than 100.
REQUESTS = 300
WARMUP = 1000
TARGET_RATIO = 0.85
BASELINE = f"the bare app, interleaved in the same run ({ROUNDS} rounds of {REQUESTS} requests)"


def start(stack: ExitStack, name: str, work_dir: Path) -> WsgiWorker:
    data_dir = work_dir / name
    data_dir.mkdir()
    env = airestaurant_env(
        data_dir,
        DEFAULT_PORT,
        AIRESTAURANT_METRICS_ENABLED=str(name == INSTRUMENTED).lower(),
        AIRESTAURANT_LOG_LEVEL="WARNING",
    )
    return stack.enter_context(wsgi_worker(APP, env, host=HOST, name=name))


def check_sides(workers: dict[str, WsgiWorker], served: int) -> None:
    """Make sure we measured what we meant to: one side counts every request, one cannot."""
    status, body = workers[INSTRUMENTED].get("/metrics")
    counted = total(parse(body.decode()), DJANGO_RESPONSES.name, {"view": "ping", "status": "200"})
    if status != 200 or counted != served:
        raise RuntimeError(f"the instrumented site counted {counted:.0f} of {served} {PATH}")
    if workers[BARE].get("/metrics")[0] != 404:
        raise RuntimeError("the bare site serves /metrics: it is instrumented")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="also show pyinstrument's map")
    options = parser.parse_args()
    started = time.monotonic()
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-django-")))
        workers = {name: start(stack, name, work_dir) for name in SIDES}
        sides = {name: partial(worker.cpu_per_request, PATH) for name, worker in workers.items()}
        per_request = interleaved(sides, rounds=ROUNDS, requests=REQUESTS, warmup=WARMUP)
        check_sides(workers, WARMUP + ROUNDS * REQUESTS)
        if options.profile:
            print(workers[INSTRUMENTED].profile(PATH, 20_000, package="django_prometheus"))
    spread = cpu_spread(per_request)
    print_medians(f"GET {PATH}", per_request)
    print(f"  instrumented/bare: {spread.describe()}")
    return finish(
        "django-overhead",
        [held_to_target(spread, TARGET_RATIO, request=f"GET {PATH}", baseline=BASELINE)],
        seconds=time.monotonic() - started,
        notes=[
            "In process: the WSGI handler called directly in a worker process per side, CPU "
            "time per request; the ratio is bare CPU per request over instrumented (a "
            "CPU-bound server's throughput ratio)."
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
