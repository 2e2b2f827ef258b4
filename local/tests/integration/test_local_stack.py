"""`make local` started as a person starts it (on moved ports, in its own work folder), left
idle through its first evaluation cycles, driven by `make load`, then stopped with Ctrl-C.

One run for the module (`observed`); each test checks one thing it saw:
- idle, no alert: no no-data alert even pending for series that never existed, none firing;
- `make load` finds the moved stack from the state file, and refuses when none runs;
- Ctrl-C: "stopped", every port free, no process left, the logs and messages kept and named.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fdc_local import load
from fdc_local.state import LocalState, state_path
from fdc_local.supervise import listening
from testkit.kube import wait_for

from .local_process import ANY_PORTS, describe, left_behind, local_run, state_ports, subreaper

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

# make local's own default, so the idle check sees what a person sees.
INTERVAL_SECONDS = 5
IDLE_CYCLES = 4
# A small make load: 40 clean requests and 3 errors per app.
LOAD = ("--requests", "40", "--parallel", "2", "--errors", "3")


@dataclass
class Observed:
    state: LocalState
    ports: list[int]
    alerts_idle: list[dict[str, Any]] = field(default_factory=list)
    evaluations_idle: int = 0
    load: subprocess.CompletedProcess[str] | None = None
    fastapi_pings: float = 0.0
    exit_code: int | None = None
    output: str = ""
    held_ports: list[int] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    workdir: Path = Path()


def _idle_cycles(prometheus: str) -> tuple[int, list[dict[str, Any]]]:
    """Wait until every rule group has been evaluated IDLE_CYCLES times since the first look;
    return that count and the alerts Prometheus holds then (pending or firing)."""
    seen: dict[str, set[str]] = {}

    def cycles() -> int | None:
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        for group in groups:
            seen.setdefault(group["name"], set()).add(group["lastEvaluation"])
        fewest = min(len(times) for times in seen.values()) if seen else 0
        return fewest if fewest > IDLE_CYCLES else None

    count = wait_for(cycles, what=f"{IDLE_CYCLES} rule evaluations", timeout=30 * INTERVAL_SECONDS)
    alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return count, alerts


def _pings(fastapi: str) -> float:
    total = 0.0
    for line in httpx.get(f"{fastapi}/metrics", timeout=10).text.splitlines():
        if line.startswith("http_requests_total{") and 'handler="/ping"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    workdir = tmp_path_factory.mktemp("make-local")
    with (
        subreaper() as children_before,
        local_run(workdir, ANY_PORTS, log=workdir / "make-local.out") as run,
    ):
        state = run.wait_ready()
        seen = Observed(state=state, ports=state_ports(state), workdir=workdir)
        seen.evaluations_idle, seen.alerts_idle = _idle_cycles(state.prometheus)
        before = _pings(state.fastapi)
        seen.load = subprocess.run(
            [sys.executable, "-m", "fdc_local.load", "--workdir", str(workdir), *LOAD],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        seen.fastapi_pings = _pings(state.fastapi) - before
        seen.exit_code = run.interrupt()
        seen.output = run.output()
        seen.held_ports = [port for port in seen.ports if listening(port)]
        seen.leftovers = describe(left_behind(children_before))
    yield seen


def test_an_idle_stack_raises_no_alert(observed: Observed) -> None:
    """No traffic yet: series that never existed are SeriesFound's business, not an alert's."""
    assert observed.evaluations_idle > IDLE_CYCLES
    no_data = [a for a in observed.alerts_idle if a["labels"].get("sloalert_tier") == "nodata"]
    firing = [a for a in observed.alerts_idle if a["state"] == "firing"]
    assert no_data == [], [a["labels"]["alertname"] for a in no_data]
    assert firing == []


def test_make_load_follows_the_moved_stack(observed: Observed) -> None:
    assert observed.load is not None
    assert observed.load.returncode == 0, observed.load.stderr
    assert f"{observed.state.fastapi}: 40 requests" in observed.load.stdout
    assert f"{observed.state.django}: 40 requests" in observed.load.stdout
    assert observed.fastapi_pings >= 20  # half of the 40 FastAPI requests are /ping
    assert f"{observed.state.prometheus}/alerts" in observed.load.stdout


def test_the_banner_names_the_load_command_for_the_moved_ports(observed: Observed) -> None:
    assert f"make load WORKDIR={observed.workdir}" in observed.output
    assert f"FASTAPI_URL={observed.state.fastapi}" in observed.output


def test_ctrl_c_stops_everything_and_frees_every_port(observed: Observed) -> None:
    assert observed.exit_code == 0, observed.output
    assert "stopped: every process has ended and every port is free." in observed.output
    assert observed.held_ports == []
    assert observed.leftovers == []
    assert not state_path(observed.workdir).exists()


def test_the_logs_and_the_relays_messages_survive_and_are_named(observed: Observed) -> None:
    last = observed.output.strip().splitlines()[-3:]
    relay_log = Path(last[-2].rsplit(": ", 1)[1])
    assert "the relay's messages" in last[-2]
    assert relay_log.is_file() and relay_log.stat().st_size > 0
    assert relay_log.is_relative_to(observed.workdir / "run")


def test_make_load_refuses_without_a_stack(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fdc_local.load", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == load.NO_STACK
    assert result.stdout == ""
