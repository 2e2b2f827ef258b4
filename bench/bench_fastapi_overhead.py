"""What Prometheus instrumentation costs the FastDining API: CPU time per request, in process.

The app is called directly (one ASGI call per request: no server, client or socket), bare
(metrics disabled) and instrumented, in interleaved rounds. The figure is the bare app's CPU
time per request over the instrumented app's: the instrumented server's throughput ratio when
the CPU is what limits it, which is what the target is about. It is the median over rounds,
with its spread; other load on the machine slows both sides of a round alike.

A third side, not held to the target, is the app instrumented the way the instrumentator's
documentation does it (its own middleware): what recording requests ourselves saves.
`--profile` adds pyinstrument's view of where each middleware's time goes (README: the
"Instrumentation overhead" section). Run from the repository root (about 30 s):
    uv run python bench/bench_fastapi_overhead.py [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from fastapi import FastAPI
from fastdining_api.app import create_app
from fastdining_api.config import LATENCY_BUCKETS, Settings
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from pyinstrument import Profiler
from pyinstrument.frame import Frame
from sloalert.exporters import FASTAPI_REQUESTS
from starlette.types import ASGIApp
from testkit.bench_results import Figure, finish
from testkit.overhead import (
    BARE,
    INSTRUMENTED,
    asgi_scope,
    cpu_per_request,
    cpu_spread,
    held_to_target,
    interleaved_cpu,
    print_medians,
)
from testkit.scrape import parse, total

PATHS = ("/ping", "/recommendations?cuisine=korean&max_price=40&limit=5")
ROUNDS = 200
# Per side and round: a few ms of CPU, so that what else runs on the machine meanwhile hits
# both sides of a round alike. Runs here: medians 0.866-0.878x with 240 rounds of 100.
REQUESTS = 100
WARMUP = 1000
TARGET_RATIO = 0.85
LIBRARY = "instrumentator's middleware"
BASELINE = f"the bare app, interleaved in the same run ({ROUNDS} rounds of {REQUESTS} requests)"


def library_instrumented() -> FastAPI:
    """The app as the instrumentator's README instruments it: its middleware records."""
    app = create_app(Settings(metrics_enabled=False))
    registry = CollectorRegistry()
    instrumentator = Instrumentator(
        should_group_status_codes=True,
        excluded_handlers=["^/metrics$"],
        # Its in-progress gauge always registers globally (upstream #317): one such app only.
        should_instrument_requests_inprogress=True,
        inprogress_labels=True,
        registry=registry,
    )
    instrumentator.add(metrics.requests(registry=registry))
    instrumentator.add(
        metrics.latency(buckets=LATENCY_BUCKETS, should_include_status=False, registry=registry)
    )
    instrumentator.instrument(app).expose(app, include_in_schema=False)
    return app


async def get(app: ASGIApp, path: str) -> tuple[int, bytes]:
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(asgi_scope(path), receive, send)
    return answer["status"], answer["body"]


async def check_sides(apps: dict[str, ASGIApp], path: str, served: int) -> None:
    """Make sure we measured what we meant to: one side counts every request, one cannot."""
    status, body = await get(apps[INSTRUMENTED], "/metrics")
    route = path.partition("?")[0]
    counted = total(parse(body.decode()), FASTAPI_REQUESTS.name, {"handler": route})
    if status != 200 or counted != served:
        raise RuntimeError(f"the instrumented app counted {counted:.0f} of {served} {route}")
    if (await get(apps[BARE], "/metrics"))[0] != 404:
        raise RuntimeError("the bare app serves /metrics: it is instrumented")


def measure(apps: dict[str, ASGIApp], path: str) -> list[Figure]:
    per_request = interleaved_cpu(apps, path, rounds=ROUNDS, requests=REQUESTS, warmup=WARMUP)
    asyncio.run(check_sides(apps, path, WARMUP + ROUNDS * REQUESTS))
    print_medians(f"GET {path}", per_request)
    ours, library = cpu_spread(per_request), cpu_spread(per_request, LIBRARY)
    print(f"  instrumented/bare: {ours.describe()}")
    print(f"  {LIBRARY}/bare: {library.describe()}")
    return [
        held_to_target(ours, TARGET_RATIO, request=f"GET {path}", baseline=BASELINE),
        Figure(
            name=f"GET {path}: the same with the {LIBRARY}",
            value=library.median,
            baseline=BASELINE,
            target=None,
            detail=f"{library.describe()}; why it is not used: services/fastdining-api/README.md",
        ),
    ]


# --- --profile: where a middleware's time goes ---------------------------------------------
def profile(app: ASGIApp, middleware: str, path: str = "/ping", requests: int = 20_000) -> None:
    """pyinstrument over `requests` calls: the middleware's share of the app's time, and what
    it spends outside the app it wraps (pyinstrument's own overhead inflates every share a
    little; the CPU figures above are the measurement, this is the map)."""
    profiler = Profiler(interval=0.0001, async_mode="disabled")
    profiler.start()
    asyncio.run(cpu_per_request(app, path, requests))
    profiler.stop()
    root = profiler.last_session.root_frame()
    # pyinstrument may split one function into several frames (one per stack it was seen on):
    # each figure sums all of a name's frames.
    app_time = sum(frame.time for frame in _frames(root, "FastAPI.__call__"))
    frames = _frames(root, middleware)
    if not app_time or not frames:
        raise RuntimeError(f"{middleware} is not in the profile")
    spent: dict[str, float] = {}
    for frame in frames:
        for child in frame.children:
            if child.function != "__call__":  # the app it wraps
                spent[_name(child)] = spent.get(_name(child), 0.0) + child.time
    own = sum(spent.values())
    print(
        f"{middleware}, GET {path} ({profiler.last_session.sample_count} samples): "
        f"{100 * own / app_time:.1f}% of the app's time is its own, spent in:"
    )
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        if seconds / app_time >= 0.001:
            print(f"  {100 * seconds / app_time:5.1f}%  {name}")


def _frames(frame: Frame | None, name: str) -> list[Frame]:
    """Every frame of function `name` (not looking inside those for more)."""
    if frame is None:
        return []
    if _name(frame) == name:
        return [frame]
    return [found for child in frame.children for found in _frames(child, name)]


def _name(frame: Frame) -> str:
    return f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="also show pyinstrument's map")
    options = parser.parse_args()
    started = time.monotonic()
    apps: dict[str, ASGIApp] = {
        INSTRUMENTED: create_app(Settings(metrics_enabled=True)),
        BARE: create_app(Settings(metrics_enabled=False)),
        LIBRARY: library_instrumented(),
    }
    figures = [figure for path in PATHS for figure in measure(apps, path)]
    if options.profile:
        profile(apps[INSTRUMENTED], "RequestMetricsMiddleware.__call__")
        profile(apps[LIBRARY], "PrometheusInstrumentatorMiddleware.__call__")
    return finish(
        "fastapi-overhead",
        figures,
        seconds=time.monotonic() - started,
        notes=[
            "In process: the ASGI app called directly, CPU time per request on one thread; "
            "the ratio is bare CPU per request over instrumented (a CPU-bound server's "
            "throughput ratio)."
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
