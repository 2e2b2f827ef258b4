"""An SLOAlert's status: conditions a person can act on, built by pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sloalert.conventions import (
    CONDITION_READY,
    CONDITION_SELECTED,
    CONDITION_SERIES_FOUND,
    REASON_ALL_SERIES_FOUND,
    REASON_APPLY_FAILED,
    REASON_INVALID_SPEC,
    REASON_NO_PROMETHEUS,
    REASON_NO_SERIES,
    REASON_NOT_SELECTED,
    REASON_PROMETHEUS_ERROR,
    REASON_PROMETHEUS_UNREACHABLE,
    REASON_PROMETHEUSES_NOT_WATCHED,
    REASON_RULES_APPLIED,
    REASON_SELECTED,
    REASON_SELECTION_UNKNOWN,
)
from sloalert.errors import Problem
from sloalert.operator.selection import Selection
from sloalert.series_check import Dead, PrometheusError, PrometheusUnreachable

Status = Literal["True", "False", "Unknown"]


@dataclass(frozen=True)
class Condition:
    type: str
    status: Status
    reason: str
    message: str


@dataclass(frozen=True)
class AppliedRule:
    name: str
    recording: int
    alerting: int
    grouped: bool = False  # indicator.groupBy: status.groups is counted, else cleared


def ready_applied(rule: AppliedRule) -> Condition:
    message = (
        f"PrometheusRule {rule.name} holds {rule.recording} recording and "
        f"{rule.alerting} alerting rules"
    )
    return Condition(CONDITION_READY, "True", REASON_RULES_APPLIED, message)


def ready_invalid(problems: Sequence[Problem], *, has_previous_rules: bool) -> Condition:
    listed = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
    kept = (
        "the previous rules stay in place until it is fixed"
        if has_previous_rules
        else "no rules were written"
    )
    return Condition(CONDITION_READY, "False", REASON_INVALID_SPEC, f"{listed} ({kept})")


def ready_apply_failed(rule_name: str, error: str) -> Condition:
    message = f"could not write PrometheusRule {rule_name}: {error} (retrying)"
    return Condition(CONDITION_READY, "False", REASON_APPLY_FAILED, message)


def ready_unrecorded(error: str) -> Condition:
    """Ready when the status could not be brought up to date (the API refused a read or the
    status write itself): never written, it is what the metrics count and kopf's retry says."""
    return Condition(CONDITION_READY, "Unknown", REASON_APPLY_FAILED, f"{error} (retrying)")


def selected(selection: Selection, watched_namespaces: Sequence[str] = ()) -> Condition:
    """Selected, from every visible Prometheus' verdict.

    `watched_namespaces` are the namespaces the operator sees Prometheus objects in (empty: all).
    Short of all, one it cannot see may load the rule, so "none loads it" would be a guess.
    """
    if selection.selected_by:
        message = f"loaded by {selection.loaders()}"
        return Condition(CONDITION_SELECTED, "True", REASON_SELECTED, message)
    reasons = " ".join(f"{_sentence(v.reason)}" for v in selection.undecided + selection.refusals)
    if watched_namespaces:
        message = (
            "no Prometheus the operator can see loads this rule: it watches namespaces "
            f"{', '.join(watched_namespaces)} only, and a Prometheus elsewhere may load it."
        )
        return Condition(
            CONDITION_SELECTED,
            "Unknown",
            REASON_PROMETHEUSES_NOT_WATCHED,
            f"{message} {reasons}".rstrip(),
        )
    if not selection.verdicts:
        message = (
            "no monitoring.coreos.com/v1 Prometheus objects exist, nor ThanosRulers, "
            "so nothing in this cluster loads this rule"
        )
        return Condition(CONDITION_SELECTED, "Unknown", REASON_NO_PROMETHEUS, message)
    if selection.undecided:
        message = f"no Prometheus is known to load this rule. {reasons}"
        return Condition(CONDITION_SELECTED, "Unknown", REASON_SELECTION_UNKNOWN, message)
    return Condition(
        CONDITION_SELECTED,
        "False",
        REASON_NOT_SELECTED,
        f"no Prometheus loads this rule. {reasons}",
    )


def series_found(dead: Sequence[Dead], checked: int) -> Condition:
    """SeriesFound from a check: True, or False naming each selector that reads nothing."""
    if not dead:
        message = (
            f"every selector the indicator needs matches series in Prometheus ({checked} checked)"
        )
        return Condition(CONDITION_SERIES_FOUND, "True", REASON_ALL_SERIES_FOUND, message)
    message = " | ".join(f"{found.probe.field}: {found.message}" for found in dead)
    return Condition(CONDITION_SERIES_FOUND, "False", REASON_NO_SERIES, message)


def series_unknown(error: PrometheusError) -> Condition:
    """SeriesFound when Prometheus could not say: never False, which would be a guess."""
    reason = (
        REASON_PROMETHEUS_UNREACHABLE
        if isinstance(error, PrometheusUnreachable)
        else REASON_PROMETHEUS_ERROR
    )
    message = f"{error} (asked again at the next check)"
    return Condition(CONDITION_SERIES_FOUND, "Unknown", reason, message)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def with_conditions(
    previous: Mapping[str, Any],
    conditions: Sequence[Condition],
    *,
    now: datetime,
    generation: int | None = None,
    rule: AppliedRule | None = None,
    groups: int | None = None,
) -> dict[str, Any]:
    """The next status: `previous` with `conditions` merged in.

    `generation` is set when this status answers a spec (observedGeneration moves on); `rule`
    when rules were written; `groups` when a grouped SLO's groups were counted. A condition
    keeps its lastTransitionTime while its status stays.
    """
    status = dict(previous)
    if groups is not None:
        status["groups"] = groups
    if generation is not None:
        status["observedGeneration"] = generation
    if rule is not None:
        status["prometheusRule"] = rule.name
        status["rules"] = {"recording": rule.recording, "alerting": rule.alerting}
        if not rule.grouped and status.get("groups") is not None:
            # No longer grouped: a merge patch removes the field only when it says null.
            status["groups"] = None
    observed = status.get("observedGeneration")
    status["conditions"] = merge_conditions(
        previous.get("conditions") or [], conditions, now=now, generation=observed
    )
    return status


def merge_conditions(
    previous: Sequence[Mapping[str, Any]],
    updates: Sequence[Condition],
    *,
    now: datetime,
    generation: int | None,
) -> list[dict[str, Any]]:
    """Conditions in their previous order, updated ones replaced, new ones appended."""
    by_type = {update.type: update for update in updates}
    merged: list[dict[str, Any]] = []
    for old in previous:
        update = by_type.pop(str(old.get("type")), None)
        merged.append(dict(old) if update is None else _render(update, old, now, generation))
    merged.extend(_render(update, None, now, generation) for update in by_type.values())
    return merged


def _render(
    condition: Condition,
    old: Mapping[str, Any] | None,
    now: datetime,
    generation: int | None,
) -> dict[str, Any]:
    unchanged = old is not None and old.get("status") == condition.status
    rendered: dict[str, Any] = {
        "type": condition.type,
        "status": condition.status,
        "reason": condition.reason,
        "message": condition.message,
        "lastTransitionTime": old["lastTransitionTime"]
        if unchanged and old and old.get("lastTransitionTime")
        else timestamp(now),
    }
    if generation is not None:
        rendered["observedGeneration"] = generation
    return rendered


def condition_status(status: Mapping[str, Any], condition_type: str) -> Status | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition.get("status")
    return None


def turned_false(previous: Mapping[str, Any], condition: Condition) -> bool:
    """Whether `condition` makes a False out of what `previous` said (a transition to warn of)."""
    return condition.status == "False" and condition_status(previous, condition.type) != "False"


def outdated(live: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether any field of `wanted` has another value (or none) in the `live` status."""
    return any(live.get(field) != value for field, value in wanted.items())


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
