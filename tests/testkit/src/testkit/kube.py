"""Run the real kubectl against a test cluster, failing with what kubectl said."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from testkit.tools import require_tool

T = TypeVar("T")


class KubectlError(RuntimeError):
    """kubectl exited non-zero; `stderr` holds the API server's message (e.g. a schema refusal)."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.command = tuple(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"kubectl {' '.join(args)} exited with {returncode}: {stderr.strip()}")


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None, timeout: float = 60.0) -> str:
    """Run `kubectl ARGS` against the cluster in `kubeconfig` and return its standard output."""
    tool = require_tool("kubectl")
    # KUBECONFIG rather than --kubeconfig: it also reaches plugins and exec credential helpers.
    done = subprocess.run(
        [str(tool), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        check=False,
    )
    if done.returncode != 0:
        raise KubectlError(args, done.returncode, done.stderr)
    return done.stdout


def unique_name(prefix: str) -> str:
    """A fresh DNS-label name (`prefix-` and 8 hex digits), so tests never collide on a cluster."""
    return f"{prefix}-{secrets.token_hex(4)}"


def wait_for(
    check: Callable[[], T | None], *, what: str, timeout: float = 30.0, interval: float = 0.1
) -> T:
    """Call `check` until it returns something truthy and return that.

    For state that a controller (kopf, the API server's own) reaches some time after a request.
    `check` always gets one last call after the deadline, so a slow one is not cut short; then
    TimeoutError names `what` and the last thing `check` returned.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout} s (last: {result!r})")
        time.sleep(interval)
