"""One container's process: started in its sandbox, logged to a file, stopped as the kubelet does.

The sandboxed process is PID 1 of its own PID namespace (`bwrap --as-pid-1`), in a session of its
own (so a terminal's Ctrl-C reaches only the supervisor). Stopping sends SIGTERM to that process
alone, then SIGKILL after the grace period; its namespace dies with it, so nothing it started can
outlive it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from fdc_podrunner.sandbox import Sandbox, bwrap_argv

_TAIL_LINES = 30


class PodFailed(RuntimeError):
    """A container exited, a probe never passed, or it wrote outside a writable mount."""

    def __init__(self, pod: str, container: str, reason: str, log_tail: str) -> None:
        super().__init__(
            f"pod {pod}, container {container}: {reason}\n--- last lines of its log ---\n{log_tail}"
        )
        self.pod = pod
        self.container = container
        self.reason = reason
        self.log_tail = log_tail


def tail(path: Path, lines: int = _TAIL_LINES) -> str:
    if not path.is_file():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


Spawn = Callable[..., subprocess.Popen[bytes]]


class ContainerProcess:
    def __init__(self, pod: str, name: str, log_path: Path, tools: tuple[str, str]) -> None:
        self.pod = pod
        self.name = name
        self.log_path = log_path
        self.tools = tools  # (bwrap, nsenter)
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # the container's PID 1, as seen from here
        self.restarts = 0
        self.killed = False  # stop() had to SIGKILL it: SIGTERM did not end it within the grace

    def start(self, make_sandbox: Callable[[int], Sandbox], spawn: Spawn) -> None:
        read, write = os.pipe()
        try:
            argv = bwrap_argv(make_sandbox(write), bwrap=self.tools[0], nsenter=self.tools[1])
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as log:
                self.process = spawn(argv, pass_fds=(write,), stdout=log, stderr=log)
        finally:
            os.close(write)
        with os.fdopen(read, "rb") as info:
            text = info.read()
        try:
            self.pid = int(json.loads(text)["child-pid"])
        except (ValueError, KeyError):
            self.process.wait(timeout=10)
            raise PodFailed(
                self.pod, self.name, "the sandbox did not start", tail(self.log_path)
            ) from None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def failure(self, reason: str) -> PodFailed:
        return PodFailed(self.pod, self.name, reason, tail(self.log_path))

    def stop(self, grace: float) -> None:
        """SIGTERM to the container's process alone; SIGKILL once `grace` seconds have passed."""
        if self.process is None or self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.05)
        if self.process.poll() is None:
            self.killed = True
            self._signal(signal.SIGKILL)
            self.process.kill()
        self.process.wait(timeout=30)

    def _signal(self, number: int) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)
