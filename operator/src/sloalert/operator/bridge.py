"""Translations between kopf's world and the reconciler's: bodies, indices, outcomes, events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import kopf

from sloalert.operator import EVENT_DRIFT_REPAIRED
from sloalert.operator.reconcile import Key, Outcome, Resource, Result, key_of
from sloalert.operator.selection import PrometheusView

# Retry quickly at first: an API server that refused a write is usually back within seconds.
_RETRY_DELAYS = (1, 2, 5, 10, 30, 60)


def plain(value: Any) -> Any:
    """A deep copy of a kopf body (nested mapping views) as plain dictionaries and lists."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


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
            kopf.info(body, reason=ready.reason, message=ready.message)
        return
    if result.outcome is Outcome.INVALID:
        # The spec can never work as it is: say why once, and wait for the next edit.
        raise kopf.PermanentError(ready.message)
    raise kopf.TemporaryError(
        ready.message, delay=_RETRY_DELAYS[min(retry, len(_RETRY_DELAYS) - 1)]
    )


def announce_repair(owner: Resource, what: str | None, logger: kopf.Logger) -> None:
    """Say, in the log and as an Event on the SLOAlert, what was put back."""
    if what is not None:
        message = f"PrometheusRule {owner['metadata']['name']}: {what}; put back"
        logger.info(message)
        kopf.info(owner, reason=EVENT_DRIFT_REPAIRED, message=message)
