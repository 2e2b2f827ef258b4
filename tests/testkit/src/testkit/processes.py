"""Run real servers on loopback for the duration of a test, and always stop them."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until_ready(
    url: str,
    process: subprocess.Popen[bytes],
    log_path: Path,
    timeout: float = 30.0,
    *,
    verify: ssl.SSLContext | bool = True,
) -> None:
    """Poll `url` until it answers below 500; fail early with the log if the process dies.

    `verify`: how to check the server's certificate (and which client certificate to show).
    """
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    with httpx.Client(verify=verify, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                program = Path(str(process.args[0])).name  # type: ignore[index]
                raise RuntimeError(
                    f"{program} exited with {process.returncode} before it was ready ({url}):\n"
                    f"{log_path.read_text(errors='replace')}"
                )
            try:
                response = client.get(url)
                if response.status_code < 500:
                    return
                last_error = f"HTTP {response.status_code}: {response.text[-500:]}"
            except httpx.HTTPError as exc:
                last_error = repr(exc)
            time.sleep(0.1)
    raise TimeoutError(
        f"{url} not ready after {timeout}s ({last_error}):\n{log_path.read_text(errors='replace')}"
    )


@contextmanager
def run_server(
    command: Sequence[str | os.PathLike[str]],
    *,
    ready_url: str,
    base_url: str,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30.0,
    verify: ssl.SSLContext | bool = True,
) -> Iterator[RunningServer]:
    """Start `command`, wait for `ready_url`, yield, then stop it (see `stop`).

    The process runs in a session (and process group) of its own: a terminal's Ctrl-C reaches
    only the program that started it, which then stops its children in order.
    """
    full_env = {**os.environ, **(env or {})}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(part) for part in command],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            wait_until_ready(ready_url, process, log_path, timeout, verify=verify)
            yield RunningServer(process=process, base_url=base_url, log_path=log_path)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM to the process alone (as a container's first process gets it), then, after
    `grace` seconds, SIGKILL to its whole process group: a server stuck in its shutdown (a
    gunicorn master seen waiting on a lock forever) and the workers it forked go too."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    kill_group(process.pid)
    process.wait(timeout=grace)


def kill_group(pgid: int) -> None:
    """SIGKILL whatever is left in the process group `pgid` (workers of a stopped server)."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
