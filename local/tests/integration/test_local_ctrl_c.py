"""Ctrl-C stops everything, every time: `make local` started and stopped ten times, each time
under `make load`'s traffic (gunicorn busy serving it, as when a master was once left behind,
stuck, holding its port), and after each stop no process of the run is left and every port is
free again. Bounded: each start, load and stop has its own timeout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fdc_local.supervise import listening
from testkit.kube import wait_for

from .local_process import ANY_PORTS, describe, left_behind, local_run, state_ports, subreaper

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

CYCLES = 10
# Enough requests that the load still runs when Ctrl-C comes; bounded in time as well.
LOAD = ("--requests", "5000", "--parallel", "8", "--errors", "0", "--max-seconds", "60")
RESPONSES = "django_http_responses_total_by_status"
STOPPED = "stopped: every process has ended and every port is free."


def test_ten_ctrl_c_stops_under_load_leave_nothing_behind(tmp_path: Path) -> None:
    for cycle in range(CYCLES):
        workdir = tmp_path / "work"
        with (
            subreaper() as before,
            local_run(workdir, ANY_PORTS, log=tmp_path / f"cycle-{cycle}.out") as run,
        ):
            state = run.wait_ready()
            with subprocess.Popen(
                [sys.executable, "-m", "fdc_local.load", "--workdir", str(workdir), *LOAD],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as load:
                _wait_until_serving(state.django)
                code = run.interrupt()
                load.communicate(timeout=120)
            output = run.output()
            held = [port for port in state_ports(state) if listening(port)]
            left = describe(left_behind(before))
        assert code == 0, f"cycle {cycle}: make local exited {code}:\n{output}"
        assert STOPPED in output, f"cycle {cycle}:\n{output}"
        assert held == [], f"cycle {cycle}: ports still held: {held}"
        assert left == [], f"cycle {cycle}: processes left: {left}"


def _wait_until_serving(django: str) -> None:
    """Ctrl-C comes while gunicorn serves: once Django has answered some of the load."""
    wait_for(lambda: _served(django) > 50, what="Django serving the load", timeout=60)


def _served(django: str) -> float:
    """Requests Django has answered so far, from its own metrics."""
    total = 0.0
    try:
        text = httpx.get(f"{django}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0.0
    for line in text.splitlines():
        # django-prometheus' responses by status (and view and method): one family per split
        if line.startswith(RESPONSES) and "{" in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
