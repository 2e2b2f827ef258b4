"""The SLO dashboard's panels (fdc_dashboards.slos) show what they say, per group picked."""

from __future__ import annotations

import pytest
from fdc_dashboards import queries, slos
from sloalert import conventions
from sloalert.promql import parse_selector
from sloalert.series_check import selects

FIRING = {"__name__": "ALERTS", "alertstate": "firing", conventions.SLO_LABEL: "api"}


@pytest.mark.parametrize(
    ("alert", "shown"),
    [
        ({conventions.GROUP_LABEL: "handler=/menu"}, True),
        ({conventions.GROUP_LABEL: "handler=/orders"}, False),
        # The grouped SLO's no-data alert is about every group: it has no group label.
        ({}, True),
    ],
    ids=["the group picked", "another group", "the no-data alert"],
)
def test_alerts_firing_keeps_an_slo_wide_alert_when_a_group_is_picked(
    alert: dict[str, str], shown: bool
) -> None:
    [target] = slos.alerts_firing().build().targets
    picked = {**queries.SUBSTITUTIONS, slos.GROUP_VARIABLE: "handler=/menu"}
    selector = parse_selector(queries.substitute(target.expr, slo="api", values=picked))
    assert selects(selector, {**FIRING, **alert}) is shown
