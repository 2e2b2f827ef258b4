"""The leftover check counts what a run started or orphaned, and only that: other tests'
servers, children of the test process from before, are not the run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from .local_process import left_behind, new_branches, subreaper

pytestmark = pytest.mark.integration

# A parent that starts a long sleeper in a session of its own and exits without stopping it:
# as a gunicorn master left behind by a supervisor that thought it had stopped everything.
ORPHANING_PARENT = (
    "import subprocess, sys; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
    "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(p.pid, flush=True)"
)


def test_only_branches_started_since_the_snapshot_count() -> None:
    before = {(10, 1.0)}
    branches = {(10, 1.0): ["server", "its worker"], (11, 2.0): ["orphan", "its child"]}
    assert new_branches(before, branches) == ["orphan", "its child"]
    # a PID reused by a later process is a new branch
    assert new_branches(before, {(10, 5.0): ["reused"]}) == ["reused"]
    assert new_branches(before, {(10, 1.0): ["server"]}) == []


def test_an_orphan_of_the_run_is_found_and_an_older_child_is_not() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as older:
        try:
            with subreaper() as before:
                parent = subprocess.run(
                    [sys.executable, "-c", ORPHANING_PARENT],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=True,
                )
                orphan = int(parent.stdout)
                try:
                    left = [process.pid for process in left_behind(before)]
                finally:
                    os.kill(orphan, signal.SIGKILL)
                    os.waitpid(orphan, 0)  # a child of this subreaper now
                assert left == [orphan]
                assert older.pid not in left
                assert [process.pid for process in left_behind(before)] == []
        finally:
            older.kill()
