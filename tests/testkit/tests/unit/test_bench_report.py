"""bench/report.py: the previous run's figures, the change since, notes, changed targets."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from testkit.bench_results import BenchResult, at_most
from testkit.tools import REPO_ROOT


def load_report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", REPO_ROOT / "bench" / "report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


report = load_report()
WRITTEN_AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def result(value: float, target: float = 3.0) -> BenchResult:
    figure = at_most("burst", value, target, baseline="the client's creates", spread="1-2x")
    return BenchResult(bench="operator", figures=[figure])


def test_the_previous_run_is_read_from_the_report_it_replaces() -> None:
    first = report.render([result(2.0)], [], WRITTEN_AT)
    previous = report.read_previous(first)
    assert previous == {("operator", "burst"): report.Previous("2x", "<= 3x")}

    second = report.render([result(2.5)], [], WRITTEN_AT, previous)
    (row,) = [line for line in second.splitlines() if line.startswith("| operator")]
    assert row.split(" | ")[2:6] == ["2.5x", "2x", "+25%", "1-2x"]


def test_the_earlier_layout_is_read_too() -> None:
    earlier = (
        "| Benchmark | Figure | Measured | Baseline (same run) | Target | |\n"
        "|---|---|---|---|---|---|\n"
        "| operator | burst | 35.2 s | a budget | <= 60 s | met |\n"
    )
    previous = report.read_previous(earlier)
    assert previous == {("operator", "burst"): report.Previous("35.2 s", "<= 60 s")}
    # Another unit: no change can be computed.
    assert report.change(result(2.0).figures[0], previous[("operator", "burst")]) == "-"


def test_a_changed_target_needs_a_note_naming_the_figure() -> None:
    previous = {("operator", "burst"): report.Previous("35.2 s", "<= 60 s")}
    unexplained = report.unexplained_target_changes([result(2.0)], previous, [])
    assert unexplained == ["operator: burst (<= 60 s -> <= 3x)"]
    why = "The target of burst is now a ratio to the client's creates: seconds hid the cost."
    assert report.unexplained_target_changes([result(2.0)], previous, [why]) == []
    same = {("operator", "burst"): report.Previous("2x", "<= 3x")}
    assert report.unexplained_target_changes([result(2.0)], same, []) == []


def test_notes_are_copied_in_file_name_order(tmp_path: Path) -> None:
    (tmp_path / "b-relay.md").write_text("### Where the relay's time goes\n\nIn parsing.\n")
    (tmp_path / "a-operator.md").write_text("### Operator\n\nTargets.\n")
    notes = report.read_notes(tmp_path)
    written = report.render([result(2.0)], [], WRITTEN_AT, {}, notes)
    assert written.index("### Operator") < written.index("### Where the relay's time goes")
    assert written.endswith("In parsing.\n")
