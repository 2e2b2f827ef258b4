"""Rendered output pinned by golden files: operator/testdata/golden/in/X.yaml renders to out/X.yaml.

A change to the generator that changes any rule shows up here as a diff to review. Regenerate
deliberately, then read the diff before committing:

    UPDATE_GOLDEN=1 uv run pytest operator/tests/unit/test_sloalert_golden.py
"""

from __future__ import annotations

import io
import os

import pytest
from sloalert.cli import main
from testkit import sloalert_testdata as corpus

GOLDEN = corpus.TESTDATA / "golden"

CASES = {
    "a 99.9% availability SLO with the default tiers renders seven windows, "
    "a page, a ticket and a no-data alert": "availability-default",
    "a 7-day SLO with the ticket tier off records only the page tier's four windows": (
        "page-only-7d"
    ),
    "a latency SLO with a traffic guard records the long windows' totals and requires them "
    "in every pair": "latency-min-rate",
    "a 28-day ratio SLO scales its burn factors and keeps them at 1x or more": "ratio-28d",
    "per-tier labels, annotations and for override the SLO's own": "tier-overrides",
    "a threshold SLO on an expression renders one alert with its for, and a no-data alert": (
        "threshold-5xx-ratio"
    ),
    "a threshold SLO with no-data off renders one alert and no namespace": (
        "threshold-cpu-no-nodata"
    ),
    "a ratio SLO grouped by handler sums by handler everywhere and names the group on its "
    "alerts": "ratio-grouped",
    "a latency SLO grouped by route and method keeps both labels": "latency-grouped",
    'a burn-rate SLO without a namespace selects its recordings with sloalert_namespace=""': (
        "availability-no-namespace"
    ),
}


def _render(stem: str) -> str:
    out = io.StringIO()
    assert main(["render", str(GOLDEN / "in" / f"{stem}.yaml")], out=out) == 0
    return out.getvalue()


@pytest.mark.parametrize("stem", CASES.values(), ids=CASES.keys())
def test_rendering_matches_its_golden_file(stem: str) -> None:
    expected = GOLDEN / "out" / f"{stem}.yaml"
    rendered = _render(stem)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected.write_text(rendered, encoding="utf-8")
    assert rendered == expected.read_text(encoding="utf-8")


def test_every_golden_input_is_a_case() -> None:
    assert sorted(path.stem for path in (GOLDEN / "in").glob("*.yaml")) == sorted(CASES.values())
