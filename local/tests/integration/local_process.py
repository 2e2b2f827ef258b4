"""`make local` as a person runs it, for the integration tests: `python -m fdc_local.local` in a
session of its own (a terminal's job), stopped the way a terminal's Ctrl-C stops it (SIGINT to
its whole process group), and every process it left behind found.

Leftovers are found by making the test process a child subreaper while a run lasts: whatever
the run orphans is re-parented to the test process instead of init, so it shows up among the
test process' children. Only what the run started counts: the test process' children from
before the run (other tests' servers: a Discord stand-in, an API server and its etcd) and
whatever they start are not the run's.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil
from fdc_local.stack import Ports
from fdc_local.state import LocalState, read_state
from testkit.kube import wait_for

PR_SET_CHILD_SUBREAPER = 36
START_TIMEOUT_SECONDS = 300.0
# The supervisor's own bound: SIGTERM, a grace period per part, then the ports-free check.
STOP_TIMEOUT_SECONDS = 180.0


def _subreaper(on: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


T = TypeVar("T")
# A process, told apart from a later one that reuses its PID: (pid, start time).
Key = tuple[int, float]


@contextmanager
def subreaper() -> Iterator[frozenset[Key]]:
    """The test process a subreaper for the block; yields its children from before the block."""
    before = frozenset(_key(child) for child in _alive(psutil.Process().children()))
    _subreaper(True)
    try:
        yield before
    finally:
        _subreaper(False)


def new_branches(before: AbstractSet[Key], branches: Mapping[Key, Sequence[T]]) -> list[T]:
    """The processes of every branch (a child and all below it) whose child is not in `before`:
    what was started, or orphaned to this process, since `before` was taken. A child of an
    older branch is that branch's business."""
    return [
        process for child, branch in branches.items() if child not in before for process in branch
    ]


def left_behind(before: AbstractSet[Key]) -> list[psutil.Process]:
    """The processes below this one that were not below it at `before` (zombies reaped: they
    hold no port and no memory)."""
    branches = {}
    for child in _alive(psutil.Process().children()):
        try:
            branches[_key(child)] = [child, *_alive(child.children(recursive=True))]
        except psutil.Error:
            continue
    return new_branches(before, branches)


def _key(process: psutil.Process) -> Key:
    return (process.pid, process.create_time())


def _alive(processes: Sequence[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for process in processes:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(process.pid, os.WNOHANG)
                continue
            _key(process)
            alive.append(process)
        except (psutil.Error, ChildProcessError):
            continue
    return alive


def describe(processes: Sequence[psutil.Process]) -> list[str]:
    found = []
    for process in processes:
        try:
            found.append(f"pid {process.pid}: {' '.join(process.cmdline()[:4])}")
        except psutil.Error:
            continue
    return found


# Every port moved off the seed's: 0 takes a free one, and make local's state file says which.
ANY_PORTS = tuple(
    item
    for name in Ports.__dataclass_fields__
    for item in (f"--{name.replace('_', '-')}-port", "0")
)


def state_ports(state: LocalState) -> list[int]:
    """The ports the state file names (the apps, the relay, Prometheus, Alertmanager)."""
    urls = (state.fastapi, state.django, state.relay, state.prometheus, state.alertmanager)
    return [int(url.rsplit(":", 1)[1]) for url in urls]


@dataclass
class LocalRun:
    process: subprocess.Popen[str]
    workdir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> LocalState:
        def ready() -> LocalState | None:
            if self.process.poll() is not None:
                raise RuntimeError(f"make local exited {self.process.returncode}:\n{self.output()}")
            return read_state(self.workdir)

        return wait_for(ready, what="make local's state file", timeout=START_TIMEOUT_SECONDS)

    def interrupt(self) -> int:
        """Ctrl-C as a terminal sends it: SIGINT to the job's whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def local_run(workdir: Path, args: Sequence[str], *, log: Path) -> Iterator[LocalRun]:
    """`make local` with `args`, its output in `log`; killed (group and all) if the block fails
    before it stopped."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fdc_local.local", "--workdir", str(workdir), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        yield LocalRun(process, workdir, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
