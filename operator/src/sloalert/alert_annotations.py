"""Default alert annotations: what fires, for which service and SLO, how fast, over which window.

The texts are Prometheus alert templates: `$value` is the burn rate (burn-rate alerts) or the
indicator's value (threshold alerts). Text that comes from the resource is escaped so a `{{`
inside a selector cannot break the template.
"""

from __future__ import annotations

from collections.abc import Sequence

from sloalert.burnrate import Condition
from sloalert.conventions import GROUP_LABEL
from sloalert.models import SLOAlert
from sloalert.promql import Selector, number

BURN_RATE_VALUE = '{{ printf "%.1f" $value }}'
VALUE = "{{ $value | humanize }}"


def literal(text: str) -> str:
    """`text` as template output, verbatim."""
    return text.replace("{{", '{{ "{{" }}')


# A grouped SLO's group, from the label its recorded series carry ("handler=/menu").
GROUP = f"{{{{ $labels.{GROUP_LABEL} }}}}"


def _subject(slo: SLOAlert, grouped: bool = True) -> str:
    subject = literal(f"{slo.spec.service} SLO {slo.metadata.name}")
    return f"{subject} ({GROUP})" if grouped and slo.spec.indicator.group_by else subject


def _promise(slo: SLOAlert) -> str:
    if slo.spec.objective is None:
        return ""
    return f" It promises {number(slo.spec.objective)}% good events over {slo.spec.window}."


def burn_rate(slo: SLOAlert, tier: str, conditions: Sequence[Condition]) -> dict[str, str]:
    limits = " or ".join(
        f"{number(c.factor)}x over {c.long} and {c.short} "
        f"({number(c.budget_share * 100)}% of the budget in {c.long})"
        for c in conditions
    )
    return {
        "summary": f"{_subject(slo)}: error budget burning at {BURN_RATE_VALUE}x ({tier})",
        "description": (
            f"{_subject(slo)} is spending its error budget {BURN_RATE_VALUE} times faster than "
            f"the rate that would use it up in exactly {slo.spec.window}.{_promise(slo)} "
            f"This {tier} alert fires above {limits}."
        ),
    }


def threshold(slo: SLOAlert, what: str) -> dict[str, str]:
    alerting = slo.spec.alerting
    side, limit = (
        ("above", alerting.above) if alerting.above is not None else ("below", alerting.below)
    )
    assert limit is not None
    held = f" for {alerting.for_}" if alerting.for_ else ""
    return {
        "summary": f"{_subject(slo)}: {VALUE} is {side} {number(limit)}{held}",
        "description": (
            f"{_subject(slo)}: {literal(what)} has been {side} {number(limit)}{held}; "
            f"now {VALUE}.{_promise(slo)}"
        ),
    }


def no_data(slo: SLOAlert, sources: Sequence[Selector], held: str) -> dict[str, str]:
    series = literal(", ".join(str(selector) for selector in sources))
    subject = _subject(slo, grouped=False)
    return {
        # No group: the alert means none of the series exists, in any group.
        "summary": f"{subject}: no data",
        "description": (
            f"None of the series {subject} reads ({series}) has existed for {held}, "
            f"though they did within the last {slo.spec.window}: the service stopped being "
            "scraped, or its metrics were renamed. The SLO's other alerts cannot fire until "
            "data returns."
        ),
    }
