"""A benchmark's result file and exit code: the plumbing behind `make bench` and RESULTS.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import bench_results


@pytest.fixture(autouse=True)
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(bench_results.RESULTS_DIR_ENV, str(tmp_path))
    return tmp_path


def test_a_missed_target_makes_the_bench_exit_non_zero() -> None:
    figures = [
        bench_results.at_least("throughput", 0.80, 0.85, baseline="the bare app"),
        bench_results.at_most("latency", 1.05, 1.1, baseline="native"),
    ]
    assert [figure.met for figure in figures] == [False, True]
    assert bench_results.finish("example", figures) == 1


def test_figures_without_a_target_never_fail_the_bench() -> None:
    figure = bench_results.Figure(
        name="whole path", value=12.5, unit="s", baseline="x", target=None
    )
    assert bench_results.finish("example", [figure]) == 0


def test_the_result_is_written_and_read_back(results_dir: Path) -> None:
    figure = bench_results.at_most("rss", 120.0, 150.0, baseline="a budget", unit="MB")
    bench_results.finish("example", [figure], seconds=3.0, notes=["on loopback"])
    [result] = bench_results.read_all()
    assert (results_dir / "example.json").is_file()
    assert result.bench == "example" and result.seconds == 3.0 and result.notes == ["on loopback"]
    assert result.figures == [figure]
    assert figure.target == "<= 150 MB"
