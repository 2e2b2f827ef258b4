"""testkit.processes.stop: a server that ignores SIGTERM (a gunicorn master once stuck in its
shutdown) is killed after the grace period, and so is every process of its group."""

from __future__ import annotations

import subprocess
import sys

import psutil
from testkit.processes import stop

# A parent ignoring SIGTERM with a child of its own that does too, the child's pid on stdout.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def test_a_server_ignoring_sigterm_is_killed_with_its_group() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, start_new_session=True
    )
    assert parent.stdout is not None
    with parent.stdout:
        child = psutil.Process(int(parent.stdout.readline()))
    stop(parent, grace=0.5)
    assert parent.returncode is not None and parent.returncode < 0  # killed, not exited
    child.wait(timeout=10)
    assert not child.is_running()
