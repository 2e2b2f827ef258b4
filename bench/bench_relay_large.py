"""What one huge notification costs the relay, and whether it stalls the relay meanwhile.

The relay runs as its image runs it (`python -m discord_relay`, uvicorn, log sink mode) on
loopback. For each size, one notification of that many small alerts is POSTed to /alertmanager
while a probe polls /healthz back to back; printed: the time the POST took, and the worst
/healthz answer time during it (the event loop's worst pause, as a client sees it) against the
probe's median with the relay idle, measured in the same run.

The sizes: 20,000 and 50,000 alerts (as in issue 15), and the largest notification the default
limits admit (4 MiB of the smallest valid alerts).

Targets (the bench exits non-zero below one):
- linear work: time per alert at 50,000 at most 1.5x the time per alert at 20,000;
- the worst /healthz answer during any of them under PAUSE_TARGET seconds, "a fraction of a
  second", well inside a Kubernetes liveness probe's default 1 s timeout.

Before issue 15's fix: 20,000 alerts took 11.4 s and 50,000 took 94 s, /healthz unanswered
all the while (the worst pause was the whole request).

Run from the repository root (under a minute once fixed):
    uv run python bench/bench_relay_large.py
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from testkit.alertmanager import webhook_payload
from testkit.bench_results import Figure, at_most, finish
from testkit.discord import run_relay

SIZES = (20_000, 50_000)
MAX_BODY_BYTES = 4 * 1024 * 1024
LINEARITY_TARGET = 1.5
PAUSE_TARGET = 0.25
POST_TIMEOUT = 600.0
IDLE_PROBES = 50


def small_alert(number: int) -> dict[str, Any]:
    """About 80 bytes: 50,000 of them fit the default 4 MiB limit."""
    return {
        "status": "firing" if number % 10 else "resolved",
        "labels": {"alertname": "BenchAlert", "instance": f"host-{number}"},
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def largest_admitted() -> bytes:
    """As many of the smallest alerts a notification can hold as fit in the body limit."""
    smallest = {"status": "firing", "labels": {}}
    payload = webhook_payload([])
    room = MAX_BODY_BYTES - len(encode(payload))
    payload["alerts"] = [smallest] * (room // (len(encode(smallest)) + 1))
    body = encode(payload)
    assert len(body) <= MAX_BODY_BYTES, len(body)
    return body


async def probe(client: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        start = time.perf_counter()
        response = await client.get("/healthz", timeout=POST_TIMEOUT)
        latencies.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
    return latencies


async def measure(base_url: str, body: bytes, token: str) -> tuple[float, float, int]:
    """Seconds the POST took, the worst /healthz answer meanwhile, and the POST's status."""
    async with (
        httpx.AsyncClient(base_url=base_url) as poster,
        httpx.AsyncClient(base_url=base_url) as prober,
    ):
        stop = asyncio.Event()
        probing = asyncio.create_task(probe(prober, stop))
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        response = await poster.post(
            "/alertmanager",
            content=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            timeout=POST_TIMEOUT,
        )
        took = time.perf_counter() - start
        stop.set()
        latencies = await probing
    return took, max(latencies), response.status_code


async def idle_probe(base_url: str) -> float:
    async with httpx.AsyncClient(base_url=base_url) as client:
        latencies = []
        for _ in range(IDLE_PROBES):
            start = time.perf_counter()
            await client.get("/healthz")
            latencies.append(time.perf_counter() - start)
    return statistics.median(latencies)


def main() -> int:
    bodies = {
        f"{size:,} alerts": encode(webhook_payload([small_alert(n) for n in range(size)]))
        for size in SIZES
    }
    largest = largest_admitted()
    bodies[f"{len(json.loads(largest)['alerts']):,} alerts (largest admitted)"] = largest
    results: dict[str, tuple[float, float, int]] = {}
    token = secrets.token_urlsafe(32)
    # As deployed, with a bearer token (log sink mode: no webhook).
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_relay(Path(tmp), {"RELAY_AUTH_TOKEN": token}) as relay,
    ):
        idle = asyncio.run(idle_probe(relay.base_url))
        print(f"/healthz median with the relay idle: {idle * 1000:.1f} ms")
        for name, body in bodies.items():
            results[name] = took, pause, status = asyncio.run(measure(relay.base_url, body, token))
            print(
                f"  {name:>36} ({len(body) / 2**20:.1f} MiB): HTTP {status} in {took:6.2f} s, "
                f"worst /healthz {pause * 1000:7.1f} ms ({pause / idle:.0f}x idle)"
            )
    per_alert = {size: results[f"{size:,} alerts"][0] / size for size in SIZES}
    linearity = per_alert[SIZES[1]] / per_alert[SIZES[0]]
    worst = max(pause for _, pause, _ in results.values())
    statuses_ok = all(status == 200 for _, _, status in results.values())
    print(f"time per alert at {SIZES[1]:,} / at {SIZES[0]:,}: {linearity:.2f}x")
    print(f"worst /healthz answer: {worst * 1000:.1f} ms")
    if not statuses_ok:
        print("  a notification was not relayed (status above)")
    figures = [
        at_most(
            f"time per alert at {SIZES[1]:,} alerts",
            linearity,
            LINEARITY_TARGET,
            baseline=f"time per alert at {SIZES[0]:,} alerts, same run",
        ),
        at_most(
            "worst /healthz answer during the large notifications",
            worst * 1000,
            PAUSE_TARGET * 1000,
            unit="ms",
            baseline=f"a budget; with the relay idle /healthz answers in {idle * 1000:.1f} ms",
        ),
        Figure(
            name="every large notification relayed (HTTP 200)",
            value=float(sum(status == 200 for _, _, status in results.values())),
            unit="of " + str(len(results)),
            baseline="all of them",
            target=f"{len(results)} of {len(results)}",
            met=statuses_ok,
        ),
    ]
    return finish("relay-large", figures)


if __name__ == "__main__":
    sys.exit(main())
