"""What `make local`'s supervisor needs around its children: a stop request from Ctrl-C or
SIGTERM that cannot cut the stopping short, and the check that every port is free again.

Every child runs in a process group of its own (testkit.processes, the pod runner), so a
terminal's Ctrl-C reaches only the supervisor; the supervisor then stops the children in order
(SIGTERM, SIGKILL after the grace period) and says "stopped" only once `held_ports` is empty.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterable

import psutil

LOOPBACK = "127.0.0.1"
PORTS_FREE_TIMEOUT_SECONDS = 30.0


def stop_requested() -> threading.Event:
    """An event set by SIGINT or SIGTERM. A second Ctrl-C (or the same signal forwarded by uv,
    make or timeout) sets it again and nothing more: the stopping in progress goes on."""
    event = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: event.set())
    return event


def listening(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def held_ports(ports: Iterable[int], timeout: float = PORTS_FREE_TIMEOUT_SECONDS) -> list[str]:
    """Wait until nothing listens on any of `ports`; return each port still taken at the
    deadline with the process holding it (empty: all free)."""
    wanted = sorted(set(ports))
    deadline = time.monotonic() + timeout
    while True:
        busy = [port for port in wanted if listening(port)]
        if not busy or time.monotonic() >= deadline:
            return [f"{LOOPBACK}:{port} ({holder(port)})" for port in busy]
        time.sleep(0.2)


def holder(port: int) -> str:
    """Who listens on `port`, as "pid N: command" when this user may see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return "holder unknown"
    for connection in connections:
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.pid
        ):
            try:
                command = " ".join(psutil.Process(connection.pid).cmdline()[:3])
            except psutil.Error:
                command = "?"
            return f"pid {connection.pid}: {command}"
    return "holder unknown"
