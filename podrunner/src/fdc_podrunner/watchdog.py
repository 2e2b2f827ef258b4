"""Containers never outlive the runner, even when it is killed with SIGKILL.

bwrap's --die-with-parent cannot reach a container's process: once it runs as UID 10001, the
kernel refuses the parent-death signal from bwrap (root without capabilities, another UID). A
watchdog process of our own (root, in a session of its own) holds the other end of a pipe and the
list of container PIDs; when the pipe closes, because the runner stopped or died, it SIGKILLs
whatever is still on the list. Each container is PID 1 of its namespace, so that ends all of it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

# Runs in a fresh interpreter: standard library only. "+PID" watches, "-PID" forgets.
_PROGRAM = """
import os, signal, sys
watched = set()
for line in sys.stdin:
    sign, pid = line[:1], int(line[1:])
    (watched.add if sign == "+" else watched.discard)(pid)
for pid in watched:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
"""


class Watchdog:
    def __init__(self, spawn: Callable[..., subprocess.Popen[bytes]]) -> None:
        self._process = spawn([sys.executable, "-c", _PROGRAM], stdin=subprocess.PIPE)
        self._lock = threading.Lock()

    def _send(self, line: str) -> None:
        assert self._process.stdin is not None
        with self._lock:
            self._process.stdin.write(line.encode() + b"\n")
            self._process.stdin.flush()

    def watch(self, pid: int) -> None:
        self._send(f"+{pid}")

    def forget(self, pid: int) -> None:
        self._send(f"-{pid}")

    def close(self) -> None:
        """Kill whatever is still watched, and end the watchdog."""
        assert self._process.stdin is not None
        with self._lock:
            self._process.stdin.close()
        self._process.wait(timeout=30)
