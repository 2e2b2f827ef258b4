"""Translations between kopf's world and the reconciler's: bodies, indices, outcomes, events."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import kopf

from sloalert.conventions import EVENT_DRIFT_REPAIRED
from sloalert.operator.reconcile import Key, Outcome, Resource, Result, key_of
from sloalert.operator.retries import retry_delay
from sloalert.operator.selection import PrometheusView
from sloalert.operator.series_watch import SeriesWatch
from sloalert.operator.status import Condition

_log = logging.getLogger(__name__)


class SLOAlertStore:
    """Every SLOAlert as last seen, by namespace and name: whom a rule belongs to, whom a
    Prometheus change concerns, what a series check reads.

    Kept from the watch events themselves rather than as a kopf index: kopf holds every
    object's events until all its indices are complete, and when the operator starts that
    would be every PrometheusRule listed, tens of MB, while the SLOAlerts are still indexed.
    An entry is the SLOAlert without managedFields and kopf's annotations, sharing the rest
    with the event kopf parsed (never modified).
    """

    def __init__(self) -> None:
        self._items: dict[Key, Resource] = {}

    def seen(self, event: Mapping[str, Any]) -> None:
        body = event["object"]
        if event.get("type") == "DELETED":
            self._items.pop(key_of(body), None)
        else:
            self._items[key_of(body)] = trimmed(body)

    def get(self, key: Key) -> Resource | None:
        return self._items.get(key)

    def all(self) -> list[Resource]:
        return list(self._items.values())


def trimmed(body: Mapping[str, Any]) -> dict[str, Any]:
    """The resource without managedFields and kopf's bookkeeping annotations (shallow)."""
    metadata = {k: v for k, v in body.get("metadata", {}).items() if k != "managedFields"}
    annotations = metadata.get("annotations")
    if annotations:
        metadata["annotations"] = {
            name: value
            for name, value in annotations.items()
            if not name.startswith("kopf.zalando.org/")
        }
    return {**body, "metadata": metadata}


def prometheuses_in(*indices: Mapping[None, Iterable[PrometheusView]]) -> list[PrometheusView]:
    """The Prometheus and ThanosRuler views of kopf's indices, together."""
    return [view for index in indices for view in index.get(None, ())]


def live_rule(event: Mapping[str, Any]) -> Resource | None:
    """The rule a watch event carries (None: deleted), as the plain dictionary kopf parsed."""
    return None if event.get("type") == "DELETED" else event["object"]


def rule_drifted(type: str | None, event: Mapping[str, Any], memo: kopf.Memo, **_: Any) -> bool:
    """kopf filter: only rules that differ from what their SLOAlert asks for reach the handler.

    It reads the raw event (no copy of the rule is made) and, for a rule that matches, only a
    digest of its spec: every write the operator makes to a rule comes back here.
    """
    owner = memo.parts.sloalerts.get(key_of(event["object"]))
    if owner is None:
        return False
    drifted = memo.parts.reconciler.drift_of(owner, live_rule(event), listed=type is None)
    return drifted is not None


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
    watch: SeriesWatch | None, body: Mapping[str, Any], store: SLOAlertStore, result: Result
) -> None:
    """Check the series of an SLOAlert whose rules were just applied (a new spec, or a resume)."""
    if watch is not None and result.outcome is Outcome.APPLIED:
        key = key_of(body)
        watch.start()
        watch.soon(key, lambda: store.get(key))


def stop_watching(watch: SeriesWatch | None, key: Key) -> None:
    if watch is not None:
        watch.forget(key)


def warn_no_series(owner: Resource, series_found: Condition) -> None:
    """Say, in the log and as a Warning Event, that the indicator reads series Prometheus does
    not have (its SLO measures nothing); once per transition to False."""
    namespace, name = key_of(owner)
    _log.warning("SLOAlert %s/%s: %s", namespace, name, series_found.message)
    kopf.warn(owner, reason=series_found.reason, message=series_found.message)
