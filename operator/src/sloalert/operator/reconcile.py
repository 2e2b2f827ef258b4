"""Keep each SLOAlert's PrometheusRule and status in line: the operator's logic, free of kopf.

An SLOAlert is loaded, generated and rendered (pure), owned, applied with server-side apply and
reported in its status. The same desired rule is the yardstick for drift: a PrometheusRule that
differs from it is applied again, one that matches is left alone, so the operator's own writes
never trigger more writes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sloalert import conventions
from sloalert.errors import InvalidSLOAlert, Problem
from sloalert.generator import generate
from sloalert.operator.kube import Kube, KubeError
from sloalert.operator.metrics import OperatorMetrics
from sloalert.operator.retries import Retries
from sloalert.operator.selection import PrometheusView, check, needs_namespace_labels
from sloalert.operator.settings import OperatorSettings
from sloalert.operator.status import (
    AppliedRule,
    Condition,
    outdated,
    ready_applied,
    ready_apply_failed,
    ready_invalid,
    ready_unrecorded,
    selected,
    turned_false,
    with_conditions,
)
from sloalert.render import prometheus_rule
from sloalert.validation import load

# Reconciles at once. More would not finish sooner (the work is CPU and API round trips), but
# each holds its generated rules and requests in memory: a thousand SLOAlerts created together
# would otherwise all be in flight at the same moment.
MAX_RECONCILES = 8
# Desired rules remembered for drift events (see Reconciler._desired_for). One event asks three
# times within milliseconds, so a few hundred entries catch it; one per SLOAlert would hold
# every generated rule set in memory (1,000 SLOAlerts of 16 rules: tens of MB).
MAX_REMEMBERED_RULES = 256

Key = tuple[str, str]
Resource = Mapping[str, Any]
PrometheusSource = Callable[[], Iterable[PrometheusView]]
OwnerSource = Callable[[], Iterable[Resource]]
OwnerLookup = Callable[[], Resource | None]
Announce = Callable[[Resource, Condition], None]
AnnounceRepair = Callable[[Resource, str], None]

SELECTION_REFRESH = "Selected refresh"
"""The key of the one pending retry of a refresh (a repair's key is its rule's)."""

_log = logging.getLogger(__name__)


# --- Pure: from an SLOAlert to the PrometheusRule it asks for ---------------------------------
@dataclass(frozen=True)
class Desired:
    rule: dict[str, Any]
    applied: AppliedRule


def key_of(resource: Resource) -> Key:
    return resource["metadata"]["namespace"], resource["metadata"]["name"]


def desired_rule(owner: Resource, extra_labels: Mapping[str, str]) -> Desired:
    """The PrometheusRule `owner` asks for, owned by it. Raises InvalidSLOAlert."""
    slo = load(owner)
    rules = generate(slo)
    rule = prometheus_rule(slo, rules, extra_labels=extra_labels)
    rule["metadata"]["ownerReferences"] = [owner_reference(owner)]
    name = rule["metadata"]["name"]
    return Desired(rule, AppliedRule(name=name, recording=rules.recording, alerting=rules.alerting))


def owner_reference(owner: Resource) -> dict[str, Any]:
    """A controller reference, so Kubernetes' garbage collector deletes the rule with its owner."""
    return {
        "apiVersion": conventions.API_VERSION,
        "kind": conventions.KIND,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def drift(live: Resource | None, desired: Resource) -> str | None:
    """What someone changed in the live rule that the operator must put back, or None."""
    if live is None:
        return "it was deleted"
    changes = []
    if live.get("spec") != desired["spec"]:
        changes.append("its spec was edited")
    live_meta, wanted_meta = live.get("metadata") or {}, desired["metadata"]
    for field in ("labels", "annotations"):
        have, want = live_meta.get(field) or {}, wanted_meta.get(field) or {}
        changed = sorted(key for key, value in want.items() if have.get(key) != value)
        if changed:
            changes.append(f"its {field} ({', '.join(changed)}) were changed")
    owner_uid = wanted_meta["ownerReferences"][0]["uid"]
    if not any(
        ref.get("uid") == owner_uid and ref.get("controller")
        for ref in live_meta.get("ownerReferences") or []
    ):
        changes.append("its controller ownerReference was removed")
    return " and ".join(changes) or None


def is_deleting(resource: Resource) -> bool:
    return bool(resource.get("metadata", {}).get("deletionTimestamp"))


# --- Effects --------------------------------------------------------------------------------
class Outcome(Enum):
    APPLIED = "applied"
    INVALID = "invalid"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    ready: Condition
    changed: bool
    """Whether the Ready condition differs from before: worth a Kubernetes Event."""


class StatusBook:
    """Writes SLOAlert status, one writer at a time per SLOAlert, and only when it is not as wanted.

    Two paths write status concurrently (an SLOAlert's own reconcile, and Prometheus changes
    recomputing `Selected`). Each builds on the last status written, not on a possibly older
    watch event, so neither overwrites the other's conditions. The live status still decides
    whether to write: if someone changed or cleared it, it is written again.
    """

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._written: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    def lock(self, key: Key) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def update(
        self, owner: Resource, change: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """Apply `change` to the current status; the caller holds `lock(key)`."""
        meta = owner["metadata"]
        slot = (meta["namespace"], meta["name"], meta["uid"])
        live = owner.get("status") or {}
        before = self._written.get(slot, live)
        after = change(before)
        # A live status older than the last write (a lagging watch event) is written again
        # too: an idempotent write, and the price of never trusting a stale cache.
        if outdated(live, after):
            await self._kube.patch_sloalert_status(meta["namespace"], meta["name"], after)
        self._written[slot] = after
        return before, after

    def forget(self, key: Key) -> None:
        self._locks.pop(key, None)
        for slot in [slot for slot in self._written if slot[:2] == key]:
            del self._written[slot]


class Reconciler:
    def __init__(
        self,
        kube: Kube,
        settings: OperatorSettings,
        metrics: OperatorMetrics,
        *,
        on_unselected: Announce,
        on_repaired: AnnounceRepair,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`on_unselected` hears of every SLOAlert whose Selected has just turned False, and
        `on_repaired` of every rule put back, with what was repaired."""
        self._kube = kube
        self._settings = settings
        self._metrics = metrics
        self._on_unselected = on_unselected
        self._on_repaired = on_repaired
        self._clock = clock
        self._status = StatusBook(kube)
        self._last_prometheuses: list[PrometheusView] | None = None
        self._retries = Retries()
        self._running = asyncio.Semaphore(MAX_RECONCILES)
        self._desired: OrderedDict[Key, tuple[str, Desired | None]] = OrderedDict()

    async def reconcile(self, owner: Resource, prometheuses: PrometheusSource) -> Result:
        """Make the SLOAlert's rule and status match its spec.

        `prometheuses` is read under the SLOAlert's lock, so a Prometheus change that lands
        meanwhile is either seen here or recomputed by `refresh_selection` right after.
        """
        async with self._running, self._status.lock(key_of(owner)):
            started = time.perf_counter()
            result = await self._reconcile(owner, list(prometheuses()))
            self._metrics.reconcile_duration.observe(time.perf_counter() - started)
        self._metrics.reconciles.labels(outcome=result.outcome.value).inc()
        self._metrics.ready.set(key_of(owner), result.ready.status)
        return result

    async def _reconcile(self, owner: Resource, prometheuses: list[PrometheusView]) -> Result:
        try:
            return await self._converge(owner, prometheuses)
        except KubeError as exc:
            # Reading the namespace or writing the status failed: like a refused rule, it is
            # counted as a failure and retried soon (bridge.settle), not left to kopf's default.
            return Result(Outcome.FAILED, ready_unrecorded(str(exc)), changed=False)

    async def _converge(self, owner: Resource, prometheuses: list[PrometheusView]) -> Result:
        generation = owner["metadata"].get("generation")
        try:
            desired = desired_rule(owner, self._settings.rule_labels)
        except InvalidSLOAlert as invalid:
            return await self._report(owner, Outcome.INVALID, invalid.problems, generation)
        try:
            await self._put(desired.rule)
        except KubeError as exc:
            failed = ready_apply_failed(desired.applied.name, str(exc))
            before, _ = await self._write(owner, [failed], generation=generation)
            return Result(Outcome.FAILED, failed, changed=_ready_changed(before, failed))
        ready = ready_applied(desired.applied)
        chosen = await self._selected(owner, desired.rule, prometheuses)
        before, _ = await self._write(
            owner, [ready, chosen], generation=generation, rule=desired.applied
        )
        return Result(Outcome.APPLIED, ready, changed=_ready_changed(before, ready))

    async def _report(
        self,
        owner: Resource,
        outcome: Outcome,
        problems: list[Problem],
        generation: int | None,
    ) -> Result:
        has_rules = bool((owner.get("status") or {}).get("prometheusRule"))
        ready = ready_invalid(problems, has_previous_rules=has_rules)
        before, _ = await self._write(owner, [ready], generation=generation)
        return Result(outcome, ready, changed=_ready_changed(before, ready))

    async def _write(
        self,
        owner: Resource,
        conditions: list[Condition],
        *,
        generation: int | None = None,
        rule: AppliedRule | None = None,
    ) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """Merge `conditions` into the status; announce a Selected that has just turned False."""
        now = self._clock()
        before, after = await self._status.update(
            owner,
            lambda before: with_conditions(
                before, conditions, now=now, generation=generation, rule=rule
            ),
        )
        for condition in conditions:
            if condition.type == conventions.CONDITION_SELECTED and turned_false(before, condition):
                self._on_unselected(owner, condition)
        return before, after

    async def _selected(
        self, owner: Resource, rule: Resource, prometheuses: list[PrometheusView]
    ) -> Condition:
        namespace = owner["metadata"]["namespace"]
        namespace_labels = (
            await self._kube.namespace_labels(namespace)
            if needs_namespace_labels(prometheuses)
            else None
        )
        selection = check(
            namespace=namespace,
            labels=rule["metadata"].get("labels") or {},
            namespace_labels=namespace_labels,
            prometheuses=prometheuses,
        )
        return selected(selection, self._settings.namespaces)

    def drift_of(self, owner: Resource, live: Resource | None) -> str | None:
        """What differs between `live` (None: deleted) and the rule `owner` asks for."""
        found = self._drift(owner, live)
        return found[0] if found else None

    def _drift(self, owner: Resource, live: Resource | None) -> tuple[str, Desired] | None:
        if is_deleting(owner):
            return None
        desired = self._desired_for(owner)
        if desired is None:
            return None  # its last good rules stay; the owner's status already says why
        what = drift(live, desired.rule)
        return (what, desired) if what else None

    def _desired_for(self, owner: Resource) -> Desired | None:
        """The rule `owner` asks for (None: its spec is invalid), built once per version of it
        while it is among the last MAX_REMEMBERED_RULES asked for.

        One drift event asks for it in kopf's filter, again in the handler and once more to put
        the rule back; every write the operator makes to a rule is such an event.
        """
        key, version = key_of(owner), owner["metadata"].get("resourceVersion")
        known = self._desired.get(key)
        if version is not None and known is not None and known[0] == version:
            self._desired.move_to_end(key)
            return known[1]
        try:
            desired: Desired | None = desired_rule(owner, self._settings.rule_labels)
        except InvalidSLOAlert:
            desired = None
        if version is not None:
            self._desired[key] = (version, desired)
            self._desired.move_to_end(key)
            if len(self._desired) > MAX_REMEMBERED_RULES:
                self._desired.popitem(last=False)
        return desired

    async def repair(self, key: Key, owner: OwnerLookup) -> None:
        """Put back the rule `key` if it differs from what its SLOAlert (`owner`) asks for.

        kopf never retries an event handler: when the write is refused, the repair is tried
        again in the background, with the retry delays, reading owner and rule afresh.
        """
        if not await self._repair(key, owner):
            self._retries.start(key, lambda: self._repair(key, owner))

    async def _repair(self, key: Key, owner: OwnerLookup) -> bool:
        """One try, on the rule as it is now; False (logged) when the API refused."""
        async with self._status.lock(key):
            # Both read under the lock, after any reconcile in flight has written its rule.
            current = owner()
            if current is None:
                return True  # the SLOAlert is gone, and its rule with it
            try:
                found = self._drift(current, await self._kube.get_rule(*key))
                if found is None:
                    return True
                what, desired = found
                await self._put(desired.rule)
            except KubeError as exc:
                _log.warning("PrometheusRule %s/%s not put back: %s", *key, exc)
                return False
        self._metrics.drift_repairs.inc()
        self._on_repaired(current, what)
        return True

    async def _put(self, rule: Resource) -> None:
        """Apply the rule; if fields another manager added survive the apply, drop them too."""
        applied = await self._kube.apply_rule(rule)
        if applied.get("spec") != rule["spec"]:
            await self._kube.replace_rule_spec(rule)

    async def refresh_selection(self, owners: OwnerSource, prometheuses: PrometheusSource) -> None:
        """Recompute `Selected` for every SLOAlert after a Prometheus object changed.

        kopf never retries an event handler: when a status could not be written, the refresh
        is tried again in the background, with the retry delays, reading both sources afresh.
        """
        if not await self._refresh(owners, prometheuses):
            self._retries.start(SELECTION_REFRESH, lambda: self._refresh(owners, prometheuses))

    async def _refresh(self, owners: OwnerSource, prometheuses: PrometheusSource) -> bool:
        """One pass over every SLOAlert; True once every Selected matches these Prometheuses."""
        views = sorted(prometheuses(), key=lambda view: view.ref)
        if views == self._last_prometheuses:
            return True  # a status-only change of a Prometheus: nothing that decides selection
        written = [await self._refresh_one(owner, views) for owner in list(owners())]
        if all(written):
            # Only now: a pass that failed midway must not make the next event look like news.
            self._last_prometheuses = views
        return all(written)

    async def _refresh_one(self, owner: Resource, views: list[PrometheusView]) -> bool:
        """Write one SLOAlert's Selected; False (logged) when the API refused."""
        if is_deleting(owner):
            return True
        desired = self._desired_for(owner)
        if desired is None:
            return True  # Selected stays as the last valid spec left it; Ready says why
        try:
            async with self._status.lock(key_of(owner)):
                await self._write(owner, [await self._selected(owner, desired.rule, views)])
        except KubeError as exc:
            _log.warning("Selected of SLOAlert %s/%s not updated: %s", *key_of(owner), exc)
            return False
        return True

    async def write_condition(self, owner: Resource, condition: Condition) -> Mapping[str, Any]:
        """Merge a condition computed elsewhere (SeriesFound) into the status, under the same
        lock as the reconcile's writes; the status before. Raises KubeError."""
        async with self._status.lock(key_of(owner)):
            before, _ = await self._write(owner, [condition])
        return before

    async def close(self) -> None:
        """Stop the pending retries (the operator is stopping)."""
        await self._retries.close()

    def forget(self, key: Key) -> None:
        self._desired.pop(key, None)
        self._status.forget(key)
        self._metrics.ready.forget(key)


def _ready_changed(before: Mapping[str, Any], ready: Condition) -> bool:
    for condition in before.get("conditions") or []:
        if condition.get("type") == ready.type:
            return (condition.get("status"), condition.get("message")) != (
                ready.status,
                ready.message,
            )
    return True
