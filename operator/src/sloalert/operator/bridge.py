"""Translations between kopf's world and the reconciler's: bodies, indices, outcomes, events."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import kopf

from sloalert.conventions import EVENT_DRIFT_REPAIRED
from sloalert.operator.reconcile import Key, Outcome, Resource, Result, key_of
from sloalert.operator.retries import retry_delay
from sloalert.operator.selection import PrometheusView
from sloalert.operator.series_watch import SeriesWatch
from sloalert.operator.status import Condition
from sloalert.validation import plain

_log = logging.getLogger(__name__)


def sloalert_entry(body: Mapping[str, Any]) -> dict[Key, dict[str, Any]]:
    """What the SLOAlert index keeps: the resource without kopf's bookkeeping annotations."""
    resource = plain(body)
    metadata = resource.get("metadata", {})
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations") or {}
    for name in [name for name in annotations if name.startswith("kopf.zalando.org/")]:
        del annotations[name]
    return {key_of(body): resource}


def owner_in(index: Mapping[Key, Iterable[Resource]], key: Key) -> Resource | None:
    return next(iter(index.get(key, ())), None)


def owners_in(index: Mapping[Key, Iterable[Resource]]) -> Iterator[Resource]:
    for store in list(index.values()):
        yield from list(store)


def prometheuses_in(index: Mapping[None, Iterable[PrometheusView]]) -> list[PrometheusView]:
    return list(index.get(None, ()))


def live_rule(event_type: str, body: Mapping[str, Any]) -> Resource | None:
    return None if event_type == "DELETED" else plain(body)


def rule_drifted(
    type: str, body: kopf.Body, memo: kopf.Memo, sloalert_index: kopf.Index, **_: Any
) -> bool:
    """kopf filter: only rules that differ from what their SLOAlert asks for reach the handler."""
    owner = owner_in(sloalert_index, key_of(body))
    live = live_rule(type, body)
    return owner is not None and memo.parts.reconciler.drift_of(owner, live) is not None


def settle(body: Mapping[str, Any], result: Result, retry: int) -> None:
    """Post an Event when Ready changes, and tell kopf whether to retry."""
    ready = result.ready
    if result.outcome is Outcome.APPLIED:
        if result.changed:
            post_normal(body, reason=ready.reason, message=ready.message)
        return
    if result.changed:
        # `kubectl describe` is where a person looks first: the reason the rules are not (or
        # no longer) applied belongs there, not only in the status and the operator's log.
        kopf.event(body, type="Warning", reason=ready.reason, message=ready.message)
    if result.outcome is Outcome.INVALID:
        # The spec can never work as it is: say why once, and wait for the next edit.
        raise kopf.PermanentError(ready.message)
    raise kopf.TemporaryError(ready.message, delay=retry_delay(retry))


def announce_repair(owner: Resource, what: str) -> None:
    """Say, in the log and as an Event on the SLOAlert, what was put back."""
    namespace, name = key_of(owner)
    message = f"PrometheusRule {name}: {what}; put back"
    _log.info("SLOAlert %s/%s: %s", namespace, name, message)
    post_normal(owner, reason=EVENT_DRIFT_REPAIRED, message=message)


def post_normal(body: Mapping[str, Any], *, reason: str, message: str) -> None:
    # Not kopf.info: the posting level that keeps kopf's own chatter out of Events
    # (runtime.tune) drops it too, while kopf.event heeds no level.
    kopf.event(body, type="Normal", reason=reason, message=message)


def warn_unselected(owner: Resource, selected: Condition) -> None:
    """Say, in the log and as a Warning Event on the SLOAlert, that no Prometheus loads its
    rules (its alerts can never fire); the reconciler calls this once per transition."""
    namespace, name = key_of(owner)
    _log.warning("SLOAlert %s/%s: %s", namespace, name, selected.message)
    kopf.warn(owner, reason=selected.reason, message=selected.message)


def watch_series(
    watch: SeriesWatch | None,
    body: Mapping[str, Any],
    index: Mapping[Key, Iterable[Resource]],
    result: Result,
) -> None:
    """Check the series of an SLOAlert whose rules were just applied (a new spec, or a resume)."""
    if watch is not None and result.outcome is Outcome.APPLIED:
        key = key_of(body)
        watch.start()
        watch.soon(key, lambda: owner_in(index, key))


def stop_watching(watch: SeriesWatch | None, key: Key) -> None:
    if watch is not None:
        watch.forget(key)


def warn_no_series(owner: Resource, series_found: Condition) -> None:
    """Say, in the log and as a Warning Event, that the indicator reads series Prometheus does
    not have (its SLO measures nothing); once per transition to False."""
    namespace, name = key_of(owner)
    _log.warning("SLOAlert %s/%s: %s", namespace, name, series_found.message)
    kopf.warn(owner, reason=series_found.reason, message=series_found.message)
