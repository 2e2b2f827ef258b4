"""Keep each SLOAlert's PrometheusRule and status in line: the operator's logic, free of kopf.

An SLOAlert is loaded, generated and rendered (pure), owned, applied with server-side apply and
reported in its status. The same desired rule is the yardstick for drift: a PrometheusRule that
differs from it is applied again, one that matches is left alone, so the operator's own writes
never trigger more writes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
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
# Writes of one rule in a row when it keeps changing between reading and writing it.
MAX_WRITE_ATTEMPTS = 3

Key = tuple[str, str]
Resource = Mapping[str, Any]
PrometheusSource = Callable[[], Iterable[PrometheusView]]
OwnerSource = Callable[[], Iterable[Resource]]
OwnerLookup = Callable[[], Resource | None]
Announce = Callable[[Resource, Condition], None]
AnnounceRepair = Callable[[Resource, str], None]

HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
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
    grouped = bool(slo.spec.indicator.group_by)
    applied = AppliedRule(name, rules.recording, rules.alerting, grouped=grouped)
    return Desired(rule, applied)


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


@dataclass(frozen=True)
class Expected:
    """What a rule must look like for its SLOAlert, kept small: one per SLOAlert is remembered
    (a digest of the spec, not the spec: 1,000 rule sets would be tens of MB)."""

    owner_uid: str
    spec_digest: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, desired: Resource) -> Expected:
        metadata = desired["metadata"]
        return cls(
            owner_uid=metadata["ownerReferences"][0]["uid"],
            spec_digest=digest(desired["spec"]),
            labels=tuple(sorted((metadata.get("labels") or {}).items())),
            annotations=tuple(sorted((metadata.get("annotations") or {}).items())),
        )

    def drift(self, live: Resource | None) -> str | None:
        """What someone changed in the live rule that the operator must put back, or None."""
        if live is None:
            return "it was deleted"
        changes = []
        if digest(live.get("spec")) != self.spec_digest:
            changes.append("its spec was edited")
        live_meta = live.get("metadata") or {}
        for field, wanted in (("labels", self.labels), ("annotations", self.annotations)):
            have = live_meta.get(field) or {}
            changed = sorted(key for key, value in wanted if have.get(key) != value)
            if changed:
                changes.append(f"its {field} ({', '.join(changed)}) were changed")
        return " and ".join(changes) or None


def digest(value: Any) -> str:
    """The same for equal JSON values, whatever their key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def drift(live: Resource | None, desired: Resource) -> str | None:
    """What someone changed in the live rule that the operator must put back, or None."""
    return Expected.of(desired).drift(live)


def other_owner(live: Resource, owner_uid: str) -> str | None:
    """Who holds the live rule when it is not controlled by the SLOAlert `owner_uid` (the end
    of a sentence: "is controlled by ..."); None when it is that SLOAlert's to write."""
    metadata = live.get("metadata") or {}
    controllers = [ref for ref in metadata.get("ownerReferences") or [] if ref.get("controller")]
    if any(ref.get("uid") == owner_uid for ref in controllers):
        return None
    if controllers:
        ref = controllers[0]
        return f"is controlled by {ref.get('kind')} {ref.get('name')} (uid {ref.get('uid')})"
    manager = (metadata.get("labels") or {}).get(conventions.MANAGED_BY_LABEL)
    release = (metadata.get("annotations") or {}).get(HELM_RELEASE_ANNOTATION)
    if manager == conventions.MANAGED_BY:
        return "is not controlled by this SLOAlert (it has no controller ownerReference to it)"
    said = [f"{conventions.MANAGED_BY_LABEL}={manager}"] if manager else []
    said += [f"Helm release {release}"] if release else []
    return "is not managed by sloalert" + (f" ({', '.join(said)})" if said else "")


def ready_owned_by_other(rule_name: str, who: str) -> Condition:
    message = (
        f"PrometheusRule {rule_name} exists and {who}: it was left untouched. Rename this "
        "SLOAlert, or remove that rule"
    )
    return Condition(
        conventions.CONDITION_READY, "False", conventions.REASON_RULE_OWNED_BY_OTHER, message
    )


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
        # Per SLOAlert: the uid and generation it was built for, and what its rule must look
        # like (None: the spec is invalid). The rule depends on nothing else that can change.
        self._expected: dict[Key, tuple[str, int | None, Expected | None]] = {}

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
        self._remember(owner, Expected.of(desired.rule))
        try:
            who = await self._put(owner, desired.rule)
        except KubeError as exc:
            failed = ready_apply_failed(desired.applied.name, str(exc))
            before, _ = await self._write(owner, [failed], generation=generation)
            return Result(Outcome.FAILED, failed, changed=_ready_changed(before, failed))
        if who is not None:
            # Someone else's rule: never written, reported, and looked at again (kopf's
            # retries, and the drift watch when that rule changes or goes).
            refused = ready_owned_by_other(desired.applied.name, who)
            before, _ = await self._write(owner, [refused], generation=generation)
            return Result(Outcome.FAILED, refused, changed=_ready_changed(before, refused))
        ready = ready_applied(desired.applied)
        labels = desired.rule["metadata"].get("labels") or {}
        chosen = await self._selected(owner, labels, prometheuses)
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
        groups: int | None = None,
    ) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """Merge `conditions` into the status; announce a Selected that has just turned False."""
        now = self._clock()
        before, after = await self._status.update(
            owner,
            lambda before: with_conditions(
                before, conditions, now=now, generation=generation, rule=rule, groups=groups
            ),
        )
        for condition in conditions:
            if condition.type == conventions.CONDITION_SELECTED and turned_false(before, condition):
                self._on_unselected(owner, condition)
        return before, after

    async def _selected(
        self, owner: Resource, rule_labels: Mapping[str, str], prometheuses: list[PrometheusView]
    ) -> Condition:
        namespace = owner["metadata"]["namespace"]
        namespace_labels = (
            await self._kube.namespace_labels(namespace)
            if needs_namespace_labels(prometheuses)
            else None
        )
        selection = check(
            namespace=namespace,
            labels=rule_labels,
            namespace_labels=namespace_labels,
            prometheuses=prometheuses,
        )
        return selected(selection, self._settings.namespaces)

    def drift_of(
        self, owner: Resource, live: Resource | None, *, listed: bool = False
    ) -> str | None:
        """What differs between `live` (None: deleted) and the rule `owner` asks for, or that
        the live rule is no longer `owner`'s; None when the rule is as asked, or left alone.

        A rule `listed` when the operator starts, whose SLOAlert it has not reconciled yet, is
        left to that reconcile (kopf resumes every SLOAlert), which reads the rule itself.
        """
        if is_deleting(owner) or (listed and key_of(owner) not in self._expected):
            return None
        expected = self._expected_for(owner)
        if expected is None:
            return None  # its last good rules stay; the owner's status already says why
        if live is not None and other_owner(live, expected.owner_uid) is not None:
            return "it is no longer controlled by this SLOAlert"
        return expected.drift(live)

    def _expected_for(self, owner: Resource) -> Expected | None:
        """What `owner`'s rule must look like (None: its spec is invalid), built once per
        generation of the SLOAlert: every write to a rule is a drift event, and most match."""
        metadata = owner["metadata"]
        known = self._expected.get(key_of(owner))
        if known is not None and known[:2] == (metadata.get("uid"), metadata.get("generation")):
            return known[2]
        try:
            expected: Expected | None = Expected.of(
                desired_rule(owner, self._settings.rule_labels).rule
            )
        except InvalidSLOAlert:
            expected = None
        self._remember(owner, expected)
        return expected

    def _remember(self, owner: Resource, expected: Expected | None) -> None:
        metadata = owner["metadata"]
        self._expected[key_of(owner)] = (metadata["uid"], metadata.get("generation"), expected)

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
            if current is None or is_deleting(current):
                return True  # the SLOAlert is gone, and its rule with it
            try:
                desired = desired_rule(current, self._settings.rule_labels)
            except InvalidSLOAlert:
                return True  # its last good rules stay; its status says why
            try:
                live = await self._kube.get_rule(*key)
                what = drift(live, desired.rule)
                who = await self._put(current, desired.rule, live=live, known=True)
                if who is not None:
                    # Not ours (any more): left as it is, and the SLOAlert says so.
                    await self._write(current, [ready_owned_by_other(desired.applied.name, who)])
                    return True
                if what is None:
                    return True
                if _ready_reason(current) == conventions.REASON_RULE_OWNED_BY_OTHER:
                    # The other rule went and this one was written: Ready again.
                    await self._write(current, [ready_applied(desired.applied)])
            except KubeError as exc:
                _log.warning("PrometheusRule %s/%s not put back: %s", *key, exc)
                return False
        self._metrics.drift_repairs.inc()
        self._on_repaired(current, what)
        return True

    async def _put(
        self,
        owner: Resource,
        rule: Resource,
        *,
        live: Resource | None = None,
        known: bool = False,
    ) -> str | None:
        """Write the rule if it is missing or differs, only where it is `owner`'s to write.

        Returns who holds it when it is not `owner`'s (then nothing was written), else None.
        Without `known` (the live rule as just read), a rule the SLOAlert's status says was
        written is read first; a new one is created, and read if one exists after all. Every
        update is conditional on the version read, so a rule that changed hands meanwhile is
        read again, never overwritten.
        """
        metadata = rule["metadata"]
        key = (metadata["namespace"], metadata["name"])
        uid = metadata["ownerReferences"][0]["uid"]
        if not known and _rule_written(owner, metadata["name"]):
            live, known = await self._kube.get_rule(*key), True
        for _ in range(MAX_WRITE_ATTEMPTS):
            if known and live is not None:
                who = other_owner(live, uid)
                if who is not None:
                    return who
                if drift(live, rule) is None:
                    return None
                version = live["metadata"]["resourceVersion"]
                try:
                    await self._kube.update_rule(_keeping_others_refs(rule, live), version)
                    return None
                except KubeError as exc:
                    if exc.status not in (404, 409):
                        raise
            else:
                try:
                    await self._kube.create_rule(rule)
                    return None
                except KubeError as exc:
                    if exc.status != 409:
                        raise
            live, known = await self._kube.get_rule(*key), True
        raise KubeError(
            f"write PrometheusRule {key[0]}/{key[1]}: it changed at each of "
            f"{MAX_WRITE_ATTEMPTS} attempts",
            409,
        )

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
        expected = self._expected_for(owner)
        if expected is None:
            return True  # Selected stays as the last valid spec left it; Ready says why
        try:
            async with self._status.lock(key_of(owner)):
                chosen = await self._selected(owner, dict(expected.labels), views)
                await self._write(owner, [chosen])
        except KubeError as exc:
            _log.warning("Selected of SLOAlert %s/%s not updated: %s", *key_of(owner), exc)
            return False
        return True

    async def write_condition(
        self, owner: Resource, condition: Condition, *, groups: int | None = None
    ) -> Mapping[str, Any]:
        """Merge a condition computed elsewhere (SeriesFound, with a grouped SLO's count of
        groups) into the status, under the same lock as the reconcile's writes; the status
        before. Raises KubeError."""
        async with self._status.lock(key_of(owner)):
            before, _ = await self._write(owner, [condition], groups=groups)
        return before

    async def close(self) -> None:
        """Stop the pending retries (the operator is stopping)."""
        await self._retries.close()

    def forget(self, key: Key) -> None:
        self._expected.pop(key, None)
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


def _ready_reason(owner: Resource) -> str | None:
    for condition in (owner.get("status") or {}).get("conditions") or []:
        if condition.get("type") == conventions.CONDITION_READY:
            return condition.get("reason")
    return None


def _rule_written(owner: Resource, rule_name: str) -> bool:
    """Whether the SLOAlert's status says its rule was written (so it likely exists)."""
    return (owner.get("status") or {}).get("prometheusRule") == rule_name


def _keeping_others_refs(rule: Resource, live: Resource) -> Resource:
    """`rule` with the ownerReferences of other objects the live rule has (not controllers:
    the live rule is controlled by the rule's owner), which a merge patch would drop."""
    ours = rule["metadata"]["ownerReferences"]
    uids = {ref["uid"] for ref in ours}
    others = [
        ref
        for ref in (live.get("metadata") or {}).get("ownerReferences") or []
        if ref.get("uid") not in uids
    ]
    if not others:
        return rule
    return {**rule, "metadata": {**rule["metadata"], "ownerReferences": [*ours, *others]}}
