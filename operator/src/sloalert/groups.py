"""How many groups a grouped SLO (indicator.groupBy) has, and whether that is too many. Pure.

Every group is a set of recorded series and alerts of its own, so a label of unbounded values
(a user id, a raw URL path) would multiply them without end. The series check asks Prometheus
`count_query` and compares the answer with the SLO's limit: over it, SeriesFound turns False
with `too_many`'s message, naming the count; the count itself goes to status.groups.
"""

from __future__ import annotations

from sloalert import conventions, indicators
from sloalert.models import SLOAlertSpec
from sloalert.sli import LatencySLI, RatioSLI


def count_query(spec: SLOAlertSpec) -> str | None:
    """PromQL giving the number of groups the indicator's events fall in (None: not grouped)."""
    group_by = spec.indicator.group_by
    if not group_by:
        return None
    sli = indicators.build(spec.indicator)
    assert isinstance(sli, RatioSLI | LatencySLI)
    total = sli.total if isinstance(sli, RatioSLI) else sli.all
    return f"count(count by ({', '.join(group_by)}) ({total}))"


def limit(spec: SLOAlertSpec) -> int:
    return spec.indicator.max_groups or conventions.DEFAULT_MAX_GROUPS


def too_many(spec: SLOAlertSpec, count: int) -> str | None:
    """Why `count` groups are too many for this SLO, or None if they are within its limit."""
    most = limit(spec)
    if count <= most:
        return None
    labels = ", ".join(spec.indicator.group_by or ())
    return (
        f"spec.indicator.groupBy: the series have {count} groups by {labels}, more than "
        f"maxGroups ({most}): group by labels with a small, fixed set of values, or raise "
        "spec.indicator.maxGroups"
    )
