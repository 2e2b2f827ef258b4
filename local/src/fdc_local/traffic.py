"""The seed's traffic and error loops (`for i in {1..300}; do curl .../ping`, `seq 400 | xargs
-P16 curl ...`, `for i in {1..30}; do curl .../boom`), as bounded request loops in threads.

Each loop sends at most `count` requests, with `parallel` workers, and stops early when its
`stop` predicate turns true or its time runs out. Used by `make load` (`fdc_local.load`), the
pipeline test and the whole-path benchmark.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

# Requests to one app (FastAPI or Django) that exercise every series the rules and dashboards
# read: the cheap probe, a real endpoint (Django's runs database queries), and 404s.
FASTAPI_CLEAN_PATHS = ("/ping", "/recommendations?cuisine=korean&max_price=40&limit=5")
DJANGO_CLEAN_PATHS = ("/ping", "/restaurants/?cuisine=korean", "/restaurants/1/")
FASTAPI_ERROR_PATH = "/boom"
DJANGO_ERROR_PATH = "/boom/"


@dataclass(frozen=True)
class Loop:
    """A bounded loop of GET requests over `paths` (taken in turn) against `base_url`."""

    base_url: str
    paths: Sequence[str]
    count: int
    parallel: int = 1
    # Seconds each worker waits between its requests: spreads a loop over several scrapes.
    pause: float = 0.0
    max_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError(f"count must be 0 or more, got {self.count}")
        if self.parallel < 1:
            raise ValueError(f"parallel must be at least 1, got {self.parallel}")
        if not self.paths:
            raise ValueError("a loop needs at least one path")


@dataclass
class LoopResult:
    statuses: Counter[int]
    failures: Counter[str]
    seconds: float
    first_sent_at: float | None  # time.time() of the first request, None if none was sent

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())

    def describe(self) -> str:
        codes = ", ".join(f"{count}x {code}" for code, count in sorted(self.statuses.items()))
        failed = ", ".join(f"{count}x {name}" for name, count in sorted(self.failures.items()))
        answers = "; ".join(part for part in (codes, failed) if part) or "none"
        return f"{self.sent} requests in {self.seconds:.1f} s ({answers})"


def throttled(predicate: Callable[[], bool], every: float = 0.5) -> Callable[[], bool]:
    """`predicate`, asked at most once per `every` seconds (loops ask after each request)."""
    lock = threading.Lock()
    last = {"at": float("-inf"), "answer": False}

    def ask() -> bool:
        with lock:
            if not last["answer"] and time.monotonic() - last["at"] >= every:
                last["answer"] = bool(predicate())
                last["at"] = time.monotonic()
            return bool(last["answer"])

    return ask


def run_loop(loop: Loop, *, stop: Callable[[], bool] | None = None) -> LoopResult:
    """Send the loop's requests; return the status codes (and connection failures) seen.

    `stop` is asked after every request: pass a cheap one, or wrap it in `throttled`.
    """
    lock = threading.Lock()
    issued = iter(range(loop.count))
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    first_sent: list[float] = []
    started = time.monotonic()
    deadline = started + loop.max_seconds
    stopped = threading.Event()

    def worker() -> None:
        with httpx.Client(base_url=loop.base_url, timeout=10.0) as client:
            while not stopped.is_set() and time.monotonic() < deadline:
                with lock:
                    number = next(issued, None)
                    if number is None:
                        return
                    if not first_sent:
                        first_sent.append(time.time())
                path = loop.paths[number % len(loop.paths)]
                try:
                    code = client.get(path).status_code
                    with lock:
                        statuses[code] += 1
                except httpx.HTTPError as exc:
                    with lock:
                        failures[type(exc).__name__] += 1
                if stop is not None and stop():
                    stopped.set()
                elif loop.pause:
                    stopped.wait(loop.pause)

    with ThreadPoolExecutor(max_workers=loop.parallel) as pool:
        for future in [pool.submit(worker) for _ in range(loop.parallel)]:
            future.result()
    return LoopResult(
        statuses=statuses,
        failures=failures,
        seconds=time.monotonic() - started,
        first_sent_at=first_sent[0] if first_sent else None,
    )


def run_together(
    loops: Sequence[Loop], *, stop: Callable[[], bool] | None = None
) -> list[LoopResult]:
    """Run several loops at the same time (one app each, say); results in the same order."""
    with ThreadPoolExecutor(max_workers=len(loops)) as pool:
        futures = [pool.submit(run_loop, loop, stop=stop) for loop in loops]
        return [future.result() for future in futures]
