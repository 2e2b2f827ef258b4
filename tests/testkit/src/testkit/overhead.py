"""What instrumentation costs: one app bare and instrumented, the CPU it spends per request.

In process: no server, client or socket; each request is one call of the app, timed by the CPU
clock of the process that runs it, so neither a load generator nor other processes' wall-clock
time is in the figure. Batches of the two sides alternate (ABBA) many times: whatever else slows
the shared machine down (caches, frequency, a neighbour's burst) hits both sides of a round
alike, and the median over rounds is what is reported, with its spread.

- An ASGI app (FastAPI) is called on this thread (`interleaved_cpu`).
- A WSGI app (Django) runs in a worker process per side (`wsgi_worker`), because Django's
  settings are process-global: a bare and an instrumented site cannot share a process. Each
  worker calls the WSGI handler directly and times its own CPU per batch (`interleaved`).
"""

from __future__ import annotations

import asyncio
import importlib
import io
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from testkit.bench_results import Figure, at_least

if TYPE_CHECKING:
    from pyinstrument.frame import Frame

INSTRUMENTED = "instrumented"
BARE = "bare"
SIDES = (INSTRUMENTED, BARE)


@dataclass(frozen=True)
class Spread:
    """Per-round ratios instrumented/bare (bare CPU per request over instrumented's)."""

    ratios: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def quartiles(self) -> tuple[float, float]:
        low, _, high = statistics.quantiles(self.ratios, n=4)
        return low, high

    def describe(self) -> str:
        low, high = self.quartiles
        return (
            f"median {self.median:.3f}x over {len(self.ratios)} rounds, "
            f"quartiles {low:.3f}-{high:.3f}, range {min(self.ratios):.3f}-{max(self.ratios):.3f}"
        )


def interleaved(
    sides: Mapping[str, Callable[[int], float]],
    *,
    rounds: int,
    requests: int,
    warmup: int = 1000,
) -> dict[str, list[float]]:
    """CPU seconds per request of each side, per round, in ABBA order after a warm-up; a side
    is a function that serves that many requests and returns its CPU seconds per request."""
    names = list(sides)
    for name in names:
        sides[name](warmup)
    per_request: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            per_request[name].append(sides[name](requests))
    return per_request


def cpu_spread(
    per_request: Mapping[str, list[float]], side: str = INSTRUMENTED, baseline: str = BARE
) -> Spread:
    """Per round, the baseline's CPU per request over `side`'s: its throughput ratio."""
    return Spread(
        tuple(
            bare / measured
            for measured, bare in zip(per_request[side], per_request[baseline], strict=True)
        )
    )


def print_medians(request: str, per_request: Mapping[str, list[float]]) -> None:
    rounds = len(next(iter(per_request.values())))
    print(f"{request}: CPU per request, median over {rounds} interleaved rounds")
    for name, values in per_request.items():
        print(f"  {name:>28}: {statistics.median(values) * 1e6:6.1f} us")


def held_to_target(spread: Spread, target: float, *, request: str, baseline: str) -> Figure:
    """The figure an overhead bench is held to: instrumented/bare requests per CPU-second."""
    return at_least(
        f"{request}: requests per CPU-second, instrumented/bare",
        spread.median,
        target,
        baseline=baseline,
        detail=spread.describe(),
    )


# --- ASGI: the app called on this thread -----------------------------------------------------
def asgi_scope(path: str) -> dict[str, Any]:
    """An HTTP GET as uvicorn hands it to the app (a fresh dict: apps write into it)."""
    raw_path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def cpu_per_request(app: ASGIApp, path: str, requests: int) -> float:
    """CPU seconds this process spent per request, over `requests` sequential GETs of `path`;
    any answer but 200 aborts the benchmark."""
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(requests):
        await app(asgi_scope(path), _receive, send)
    spent = time.process_time() - started
    _check_statuses(path, statuses, requests)
    return spent / requests


def interleaved_cpu(
    apps: Mapping[str, ASGIApp],
    path: str,
    *,
    rounds: int,
    requests: int,
    warmup: int = 1000,
) -> dict[str, list[float]]:
    """`interleaved` over ASGI apps, all on one event loop."""
    with asyncio.Runner() as runner:

        def side(app: ASGIApp, count: int) -> float:
            return runner.run(cpu_per_request(app, path, count))

        sides = {name: partial(side, app) for name, app in apps.items()}
        return interleaved(sides, rounds=rounds, requests=requests, warmup=warmup)


# --- WSGI: the handler called in a worker process per side -----------------------------------
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_environ(path: str, host: str) -> dict[str, Any]:
    """An HTTP GET as gunicorn hands it to the app (a fresh dict: apps write into it)."""
    path_info, _, query = path.partition("?")
    server_name, _, port = host.partition(":")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": server_name,
        "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def wsgi_get(app: WsgiApp, path: str, host: str) -> tuple[int, bytes]:
    """One GET as a WSGI server makes it: the body read through, then closed (Django's
    request_finished signal, which closes database connections, fires on close)."""
    status: list[int] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(int(line.split(" ", 1)[0]))

    answer = app(wsgi_environ(path, host), start_response)
    try:
        body = b"".join(answer)
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
    return status[-1], body


def wsgi_cpu_per_request(app: WsgiApp, path: str, host: str, requests: int) -> float:
    """CPU seconds this process spent per request, over `requests` sequential GETs of `path`;
    any answer but 200 aborts the benchmark."""
    started = time.process_time()
    statuses = [wsgi_get(app, path, host)[0] for _ in range(requests)]
    spent = time.process_time() - started
    _check_statuses(path, statuses, requests)
    return spent / requests


class WsgiWorker:
    """The parent's end of a worker process serving one WSGI app (see `wsgi_worker`)."""

    def __init__(self, connection: Connection, name: str, timeout: float) -> None:
        self._connection = connection
        self._name = name
        self._timeout = timeout

    def cpu_per_request(self, path: str, requests: int) -> float:
        return float(self._ask("cpu", path, requests))

    def get(self, path: str) -> tuple[int, bytes]:
        status, body = self._ask("get", path)
        return int(status), bytes(body)

    def profile(self, path: str, requests: int, package: str) -> str:
        """Where `package`'s time goes over `requests` GETs of `path` (see `package_shares`)."""
        return str(self._ask("profile", path, requests, package))

    def _ask(self, *command: Any) -> Any:
        try:
            self._connection.send(command)
            if not self._connection.poll(self._timeout):
                raise TimeoutError(f"the {self._name} worker did not answer {command[0]!r}")
            outcome, value = self._connection.recv()
        except (EOFError, OSError) as exc:
            # Its own traceback, if any, is on stderr above this.
            raise RuntimeError(f"the {self._name} worker exited ({exc!r})") from None
        if outcome == "error":
            raise RuntimeError(f"the {self._name} worker failed: {value}")
        return value


@contextmanager
def wsgi_worker(
    app: str, env: Mapping[str, str], *, host: str, name: str, timeout: float = 120.0
) -> Iterator[WsgiWorker]:
    """A fresh process (spawned, not forked: nothing of this one's imports or settings) with
    `env` added to its environment, serving the WSGI app `module:attribute`; stopped on exit."""
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(child, app, dict(env), host), name=f"wsgi-{name}", daemon=True
    )
    process.start()
    child.close()
    try:
        worker = WsgiWorker(parent, name, timeout)
        worker._ask("ready")  # the import: settings read, middlewares built, or an error
        yield worker
    finally:
        if process.is_alive():
            with suppress(OSError):  # it died meanwhile: joined below all the same
                parent.send(("stop",))
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
        parent.close()


def _serve(connection: Connection, app_path: str, env: dict[str, str], host: str) -> None:
    """The worker: commands from the parent, one at a time, each answered with
    ("ok", value) or ("error", message)."""
    os.environ.update(env)
    app: WsgiApp | None = None
    while True:
        command, *arguments = connection.recv()
        if command == "stop":
            return
        try:
            if app is None:
                module, _, attribute = app_path.partition(":")
                app = getattr(importlib.import_module(module), attribute)
            if command == "ready":
                value: Any = True
            elif command == "cpu":
                path, requests = arguments
                value = wsgi_cpu_per_request(app, path, host, requests)
            elif command == "get":
                [path] = arguments
                value = wsgi_get(app, path, host)
            elif command == "profile":
                path, requests, package = arguments
                value = _profile(app, path, host, requests, package)
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as exc:  # reported to the parent, which raises it
            connection.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            connection.send(("ok", value))


def _profile(app: WsgiApp, path: str, host: str, requests: int, package: str) -> str:
    # Imported here: pyinstrument is the workspace's dev tool, not testkit's dependency.
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0001, async_mode="disabled")
    profiler.start()
    wsgi_cpu_per_request(app, path, host, requests)
    profiler.stop()
    root = profiler.last_session.root_frame()
    if root is None:
        raise RuntimeError("pyinstrument recorded nothing")
    shares = package_shares(root, package)
    total = sum(seconds for seconds, _ in shares.values())
    lines = [
        f"{package}, GET {path} ({profiler.last_session.sample_count} samples): "
        f"{100 * total / root.time:.1f}% of the time serving the requests, in:"
    ]
    for name, (seconds, calls) in sorted(shares.items(), key=lambda item: -item[1][0]):
        lines.append(f"  {100 * seconds / root.time:5.1f}%  {name}")
        for callee, spent in sorted(calls.items(), key=lambda item: -item[1]):
            if spent / root.time >= 0.002:
                lines.append(f"           {100 * spent / root.time:5.1f}%  {callee}")
    return "\n".join(lines)


def package_shares(root: Frame, package: str) -> dict[str, tuple[float, dict[str, float]]]:
    """Each function of `package` that code outside it calls: its time, and that time by what
    it calls (its own lines as `[self]`). pyinstrument may split one function into several
    frames (one per stack it was seen on): each figure sums all of a name's frames."""
    marker = f"{os.sep}{package}{os.sep}"
    shares: dict[str, tuple[float, dict[str, float]]] = {}

    def visit(frame: Frame) -> None:
        if marker not in (frame.file_path or ""):
            for child in frame.children:
                visit(child)
            return
        seconds, calls = shares.get(_frame_name(frame), (0.0, {}))
        for child in frame.children:
            calls[_frame_name(child)] = calls.get(_frame_name(child), 0.0) + child.time
        shares[_frame_name(frame)] = (seconds + frame.time, calls)

    visit(root)
    return shares


def _frame_name(frame: Frame) -> str:
    if frame.identifier == "[self]":  # pyinstrument's frame for a function's own lines
        return "[self]"
    return f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function


def _check_statuses(path: str, statuses: list[int], requests: int) -> None:
    if set(statuses) != {200} or len(statuses) != requests:
        raise RuntimeError(f"GET {path}: answers {sorted(set(statuses))}, expected only 200")
