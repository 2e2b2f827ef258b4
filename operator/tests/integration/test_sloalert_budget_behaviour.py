"""What the error-budget series say over an SLO's whole window, run by the real promtool.

99.9% availability SLOs over 30d (default tiers) on synthetic FastAPI traffic sampled every
minute: 30 days of it, so the window is full. The budget is 0.1% of 30 days of events, which
at steady traffic is 43.2 minutes of total outage.

promtool evaluates every group at the test file's interval and ignores a group's own (the
budget group's 2m30s): the 30-day runs evaluate every 30 minutes, which keeps them to a few
seconds and the budget's 30-day sums under promtool's sample limit. The figures do not depend
on it while it stays shorter than the 1h window the budget reads (each event is then counted
the same number of times, which cancels in the ratio); the no-traffic run uses the real 2m30s.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from sloalert import conventions
from sloalert.generator import generate
from sloalert.promql import parse, selectors_in
from sloalert.render import rule_file
from sloalert.validation import load
from testkit import promtool
from testkit.slo_traffic import Phase, availability_slo, fastapi_requests

pytestmark = pytest.mark.integration

MONTH = 30 * 24 * 60  # minutes
HALF_MONTH = MONTH // 2
OUTAGE = 30
BUDGET_MINUTES = MONTH * 0.001  # 43.2


def _rules(*jobs: str) -> dict[str, Any]:
    """Each SLO's budget group and the recordings it reads, the budget groups last.

    The alerts and the other windows change nothing here and cost most of a 30-day run.
    """
    groups = rule_file(generate(load(availability_slo(job, job))) for job in jobs)["groups"]
    budget = [g for g in groups if g["name"].endswith(conventions.BUDGET_GROUP_NAME_SUFFIX)]
    read = {
        selector.metric
        for group in budget
        for rule in group["rules"]
        for selector in selectors_in(parse(rule["expr"]))
    }
    kept = [
        {**group, "rules": [r for r in group["rules"] if r.get("record") in read]}
        for group in groups
        if group not in budget
    ]
    return {"groups": [g for g in kept if g["rules"]] + budget}


def _order(rules: dict[str, Any]) -> list[str]:
    """Each budget group after the group it reads: at a 30-minute interval the other's samples of
    the last evaluation are beyond Prometheus' 5m lookback, and promtool otherwise picks an order
    at random (Prometheus runs the groups at their own intervals, 2m30s apart at most)."""
    return [group["name"] for group in rules["groups"]]


def _remaining(job: str, offset: str = "") -> str:
    at = f" offset {offset}" if offset else ""
    return f'{conventions.BUDGET_REMAINING_RECORD}{{sloalert_slo="{job}"}}{at}'


def _month_with(incident: Phase) -> list[Phase]:
    """Steady 1 request a second for 30 days, with `incident` in the middle."""
    return [
        Phase(HALF_MONTH, 1.0),
        incident,
        Phase(MONTH - HALF_MONTH - incident.minutes, 1.0),
    ]


def test_a_month_of_traffic_weighs_an_outage_by_the_events_it_failed(tmp_path: Path) -> None:
    jobs = {
        # A 30-minute total outage at steady traffic: 30 of the budget's 43.2 minutes.
        "steady": Phase(OUTAGE, 1.0, 1.0),
        # The same 30 minutes failing at a tenth of the traffic: a tenth of the bad events.
        "quiet": Phase(OUTAGE, 0.1, 1.0),
        "clean": Phase(OUTAGE, 1.0, 0.0),
    }
    series = [
        s for job, incident in jobs.items() for s in fastapi_requests(job, _month_with(incident))
    ]
    rules = _rules(*jobs)
    answers = promtool.ask(
        promtool.promtool(),
        rules,
        {"interval": "1m", "input_series": series},
        [_remaining(job) for job in jobs],
        f"{MONTH}m",
        tmp_path,
        evaluation_interval="30m",
        group_eval_order=_order(rules),
    )
    [steady], [quiet], [clean] = (answers[_remaining(job)] for job in jobs)
    spent = 1 - steady
    assert spent == pytest.approx(OUTAGE / BUDGET_MINUTES, rel=0.02), answers
    assert (1 - quiet) / spent == pytest.approx(0.1, rel=0.03), answers
    assert clean == 1.0


def test_no_traffic_leaves_the_figure_as_it_was_and_never_makes_it_nan(tmp_path: Path) -> None:
    # Six hours at 0.05% errors (half the 0.1% budget rate), then twelve hours without a
    # request: the counters stay, flat. "never" has had no traffic at all.
    busy = [Phase(6 * 60, 1.0, 0.0005)]
    series = [
        *fastapi_requests("idle", [*busy, Phase(12 * 60, 0.0)]),
        *fastapi_requests("never", [Phase(18 * 60, 0.0)]),
    ]
    # The first answer is an hour after the last request (the 1h window has emptied).
    offsets = ["11h", "6h", ""]
    questions = [_remaining("idle", offset) for offset in offsets] + [_remaining("never")]
    rules = _rules("idle", "never")
    answers = promtool.ask(
        promtool.promtool(),
        rules,
        {"interval": "1m", "input_series": series},
        questions,
        f"{18 * 60}m",
        tmp_path,
        evaluation_interval=conventions.BUDGET_GROUP_INTERVAL,
        group_eval_order=_order(rules),
    )
    figures = [answers[_remaining("idle", offset)] for offset in offsets]
    assert all(len(figure) == 1 and not math.isnan(figure[0]) for figure in figures), answers
    assert figures[0] == figures[1] == figures[2], answers
    assert figures[0][0] == pytest.approx(0.5, rel=0.05), answers
    # Never any event: no figure at all rather than 0/0.
    assert answers[_remaining("never")] == []


def test_asking_promtool_reads_back_what_it_computed(tmp_path: Path) -> None:
    # The harness itself: a constant the rules record comes back as that constant.
    objective = f'{conventions.OBJECTIVE_RECORD}{{sloalert_slo="idle"}}'
    rules = _rules("idle")
    answers = promtool.ask(
        promtool.promtool(),
        rules,
        {"interval": "1m", "input_series": fastapi_requests("idle", [Phase(10, 1.0)])},
        [objective, "absent_series_here"],
        "10m",
        tmp_path,
        group_eval_order=_order(rules),
    )
    assert answers == {objective: [0.999], "absent_series_here": []}
