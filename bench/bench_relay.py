"""What the Discord relay costs in notification latency, and how many notifications it can relay.

1. Latency, relay against Alertmanager's own Discord integration, measured in the same run:
   Alertmanager A routes to the relay (webhook_configs) which posts to the Discord stand-in;
   Alertmanager B posts to the stand-in itself (native discord_configs, Alertmanager >= 0.33).
   The relay runs as deployed: a bearer token from a file, which Alertmanager A sends.
   Both are real processes on loopback with the same route (group_wait 1s, so the first
   notification of a new group goes out at once). For each sample one fresh alert is posted to
   each in turn (one in flight at a time, alternating which goes first); the latency is from
   just before the POST to Alertmanager to the message's arrival at the stand-in (both clocks
   are this machine's).
   Arrival is read from the stand-in's record file, which costs the timed processes nothing.
   Printed: medians, p90s, the ratio relay/native (median of per-sample ratios; target <= 1.05x)
   and the added milliseconds.
2. Throughput: notifications POSTed straight to the relay by concurrent clients for a bounded
   time, the stand-in accepting everything; as a baseline, the same clients post the very
   same Discord messages straight to the stand-in. Printed: notifications per second and the
   ratio relay/stand-in alone.

Run from the repository root (under a minute):
    uv run python bench/bench_relay.py
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from testkit.alertmanager import (
    RunningAlertmanager,
    alert,
    route_to,
    run_alertmanager,
    webhook_alert,
    webhook_payload,
)
from testkit.bench_results import Figure, at_most, finish
from testkit.discord import (
    AcceptedWatch,
    Standin,
    message_text,
    run_discord_standin,
    run_relay,
)

SAMPLES = 200
SAMPLE_TIMEOUT = 30.0
TARGET_RATIO = 1.05
THROUGHPUT_SECONDS = 8.0
THROUGHPUT_MAX = 5000
CONCURRENCY = 16
RELAY_HOOK = "100000000000000001"
NATIVE_HOOK = "100000000000000002"
ROUTE = {"group_wait": "1s", "group_interval": "5s", "repeat_interval": "1h"}
# Hand-written, shown under the relay's details in RESULTS.md: why the target is what it is,
# and the profile behind the changes (issue 23); bench/notes/relay.md has the whole of it.
NOTES = (
    "Target <= 1.05x (issue 23; it had drifted to 1.1x). A pass-through relay (bare ASGI app, "
    "one aiohttp post, no checks) measured 1.025x-1.040x with this benchmark: the extra hop "
    "takes most of the 5 %.",
    "Changed for it: the Discord client is aiohttp (one socket write per request), the two "
    "notification endpoints skip FastAPI's router, plain small bodies are read by pydantic-core "
    "in one pass, each message is encoded once. The relay's own work from arrival to its "
    "request to Discord, timed inside it during this benchmark: 479 us -> 377 us.",
    "The relay wakes cold for each notification, so every distinct piece of code before the "
    "post costs tens of microseconds: a second round took out Starlette's middleware, the "
    "histogram timer, contextlib and an unused backoff from that path (434 us -> 335 us; "
    "A/B against the old code in the same runs: 0.005-0.012 better).",
    "Measured: 200 samples a side (60 moved the median ratio by +-0.006 between runs); arrival "
    "read from the stand-in's record file, not by asking its HTTP API every 10 ms.",
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def arrival(watch: AcceptedWatch, hook: str, name: str) -> float:
    """When the stand-in accepted the message naming `name`, by its own clock."""
    record = watch.wait_for(
        lambda record: record["webhook_id"] == hook and name in message_text(record),
        SAMPLE_TIMEOUT,
    )
    return float(record["at"])


def measure_latency(
    standin: Standin, relayed: RunningAlertmanager, native: RunningAlertmanager
) -> dict[str, list[float]]:
    """One notification in flight at a time, so neither side slows the other down; the sides
    alternate which goes first in each sample."""
    latencies: dict[str, list[float]] = {"relay": [], "native": []}
    sides = {"relay": (relayed, RELAY_HOOK), "native": (native, NATIVE_HOOK)}
    for sample in range(SAMPLES):
        for side in ("relay", "native") if sample % 2 == 0 else ("native", "relay"):
            alertmanager, hook = sides[side]
            name = f"Bench{side.title()}{sample:03d}"
            watch = standin.watch_accepted()
            onset = time.time()
            alertmanager.post_alerts([alert(name, labels={"severity": "bench"})])
            latencies[side].append(arrival(watch, hook, name) - onset)
    return latencies


def report_latency(latencies: dict[str, list[float]]) -> Figure:
    print(
        "Notification latency, alert POSTed to Alertmanager -> message at the stand-in "
        f"({SAMPLES} each):"
    )
    for side, label in (
        ("relay", "Alertmanager -> relay -> stand-in"),
        ("native", "Alertmanager discord_configs -> stand-in"),
    ):
        values = latencies[side]
        print(
            f"  {label:>42}: median {statistics.median(values) * 1000:7.1f} ms, "
            f"p90 {percentile(values, 0.9) * 1000:7.1f} ms"
        )
    relay, native = (statistics.median(latencies[side]) for side in ("relay", "native"))
    # The two sides of a sample run back to back, so the machine's load (shared, it drifts) is
    # nearly the same for both: the median of per-sample ratios is the steadier figure.
    ratios = [r / n for r, n in zip(latencies["relay"], latencies["native"], strict=True)]
    paired = statistics.median(ratios)
    first, _, third = statistics.quantiles(ratios, n=4)
    verdict = "meets" if paired <= TARGET_RATIO else "ABOVE"
    print(f"  ratio relay/native, median of per-sample ratios: {paired:.3f}x")
    print(
        f"  ratio of the medians: {relay / native:.3f}x, "
        f"the relay adds {(relay - native) * 1000:.1f} ms"
    )
    print(f"  target <= {TARGET_RATIO}x: {verdict}")
    return at_most(
        "notification latency, Alertmanager -> relay -> Discord",
        paired,
        TARGET_RATIO,
        baseline="Alertmanager's own discord_configs to the same stand-in, interleaved "
        "(median of per-sample ratios)",
        detail=f"medians {relay * 1000:.1f} ms vs {native * 1000:.1f} ms",
        spread=f"per-sample ratios, quartiles {first:.3f}-{third:.3f}x",
    )


async def drive(post: Callable[[httpx.AsyncClient, int], Awaitable[int]]) -> tuple[int, float]:
    """Concurrent clients call `post(client, n)` with fresh n until the time or count runs out;
    return how many succeeded and the seconds taken."""
    counter = iter(range(THROUGHPUT_MAX))
    succeeded = 0
    deadline = time.monotonic() + THROUGHPUT_SECONDS

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal succeeded
        for number in counter:
            if time.monotonic() > deadline:
                return
            if await post(client, number) == 200:
                succeeded += 1

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        start = time.monotonic()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return succeeded, time.monotonic() - start


def notification(number: int) -> dict[str, Any]:
    name = f"Throughput{number:05d}"
    return webhook_payload(
        [webhook_alert(name, labels={"severity": "bench"}, annotations={"summary": "load"})],
        group_key=f'{{}}:{{alertname="{name}"}}',
    )


def measure_throughput(standin: Standin, relay_url: str, token: str) -> Figure:
    standin.reset()
    auth = {"Authorization": f"Bearer {token}"}

    async def to_relay(client: httpx.AsyncClient, number: int) -> int:
        response = await client.post(
            f"{relay_url}/alertmanager", json=notification(number), headers=auth
        )
        return response.status_code

    relayed, relay_seconds = asyncio.run(drive(to_relay))
    messages = [record["body"] for record in standin.accepted(RELAY_HOOK)]
    if len(messages) != relayed:
        raise RuntimeError(f"{relayed} notifications relayed but {len(messages)} messages arrived")
    standin.reset()

    async def to_standin(client: httpx.AsyncClient, number: int) -> int:
        body = messages[number % len(messages)]
        response = await client.post(standin.webhook_url(RELAY_HOOK) + "?wait=true", json=body)
        return response.status_code

    direct, direct_seconds = asyncio.run(drive(to_standin))
    relay_rate, direct_rate = relayed / relay_seconds, direct / direct_seconds
    print(f"Throughput, {CONCURRENCY} concurrent clients, up to {THROUGHPUT_SECONDS:.0f} s each:")
    print(
        f"  relay (notification -> Discord message): {relay_rate:8.0f} notifications/s "
        f"({relayed} relayed)"
    )
    print(f"  baseline, the same messages straight to the stand-in: {direct_rate:8.0f} messages/s")
    print(f"  ratio relay/stand-in alone: {relay_rate / direct_rate:.3f}x")
    return Figure(
        name=f"throughput, {CONCURRENCY} concurrent clients",
        value=relay_rate / direct_rate,
        baseline="the same messages posted straight to the stand-in",
        target=None,
        detail=f"{relay_rate:.0f} notifications/s vs {direct_rate:.0f} messages/s",
    )


def main() -> int:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-relay-")))
        standin = stack.enter_context(run_discord_standin(work))
        token_file = work / "relay-token"
        token_file.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        relay = stack.enter_context(
            run_relay(
                work,
                {
                    "DISCORD_WEBHOOK_URL": standin.webhook_url(RELAY_HOOK),
                    "RELAY_AUTH_TOKEN_FILE": str(token_file),
                },
            )
        )
        webhook = {
            "url": f"{relay.base_url}/alertmanager",
            "send_resolved": False,
            "http_config": {
                "authorization": {"type": "Bearer", "credentials_file": str(token_file)}
            },
        }
        relayed = stack.enter_context(
            run_alertmanager(
                work, route_to({"name": "relay", "webhook_configs": [webhook]}, **ROUTE)
            )
        )
        discord = {"webhook_url": standin.webhook_url(NATIVE_HOOK), "send_resolved": False}
        native = stack.enter_context(
            run_alertmanager(
                work, route_to({"name": "native", "discord_configs": [discord]}, **ROUTE)
            )
        )
        figures = [
            report_latency(measure_latency(standin, relayed, native)),
            measure_throughput(standin, relay.base_url, token_file.read_text(encoding="utf-8")),
        ]
    return finish("relay", figures, notes=NOTES)


if __name__ == "__main__":
    sys.exit(main())
