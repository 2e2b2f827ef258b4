"""The whole alert path's time: the first failing request to the page's Discord message.

The same stack and scenario as the pipeline test (tests/pipeline: fdc_local.stack and
testkit.alert_path): our four workloads from their rendered pods, node_exporter, Prometheus with
the shipped SLOAlerts' rules (scrape and evaluation every 1 s), Alertmanager with the
configuration kube-prometheus-stack renders, and the Discord stand-in. The figure is reported
next to the page route's group_wait, the wait no run can beat; it has no target of its own.
About 3 minutes:
    uv run python bench/bench_whole_path.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from fdc_local.stack import run_stack
from testkit import bench_results
from testkit.alert_path import drive_alert_path, whole_path_result


def main() -> int:
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bench-whole-path-") as tmp,
        run_stack(Path(tmp)) as stack,
    ):
        run = drive_alert_path(stack, log=lambda line: print(f"  {line}", flush=True))
    result = whole_path_result(run)
    return bench_results.finish(
        result.bench, result.figures, seconds=time.monotonic() - started, notes=result.notes
    )


if __name__ == "__main__":
    sys.exit(main())
