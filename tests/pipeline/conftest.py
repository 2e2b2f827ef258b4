"""One running stack for the whole folder: the pipeline test drives the alert path through it,
and the dead-query check then asks the same Prometheus, after that traffic and those errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fdc_local.stack import Stack, run_stack
from testkit import bench_results
from testkit.alert_path import AlertPathRun, drive_alert_path, whole_path_result


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with run_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def alert_path(stack: Stack) -> AlertPathRun:
    """The scenario, run once. It prints its steps and the whole-path time (shown with -s, and
    on failure), and writes that time where bench/report.py picks it up."""
    run = drive_alert_path(stack, log=lambda line: print(f"alert path: {line}", flush=True))
    result = whole_path_result(run)
    path = bench_results.write(result)
    print(f"alert path: {result.figures[0].name}: {result.figures[0].value:.1f} s ({path})")
    return run
