"""The SeriesFound check in the operator: when to ask Prometheus, how much at once, what to write.

An SLOAlert is checked `delay` after its rules are applied (scraping gets a moment), again
after each spec change, and every `period` after that. Checks due within a few seconds of
each other run as one pass, and a pass asks for the selectors of all its SLOAlerts together
(`series_check.live`, in batches), so a thousand SLOAlerts cost a few dozen requests a period,
not thousands. Requests in flight are bounded by the adapter, and every question of a pass has
a timeout. Only the SeriesFound condition is written: Ready, and the rules, are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, NamedTuple, Protocol, TypeVar

from sloalert import series_check
from sloalert.errors import InvalidSLOAlert
from sloalert.operator.kube import KubeError
from sloalert.operator.metrics import ConditionStates
from sloalert.operator.reconcile import Key, OwnerLookup, Resource, is_deleting
from sloalert.operator.status import Condition, series_found, series_unknown, turned_false
from sloalert.promql import Selector
from sloalert.validation import load

# Checks due within this many seconds of the first are asked in the same pass.
COALESCE_SECONDS: Final = 5.0
# SLOAlerts per pass: bounds what one pass holds in memory and how long it runs.
MAX_PER_PASS: Final = 250
# Each question of a pass (the batched one, and each explanation) gets this long.
CHECK_TIMEOUT_SECONDS: Final = 10.0
# A status that could not be written is tried again this soon (or at the period, if sooner).
WRITE_RETRY_SECONDS: Final = 30.0


class Record(Protocol):
    def __call__(
        self, owner: Resource, condition: Condition, *, groups: int | None = None
    ) -> Awaitable[Mapping[str, Any]]:
        """Merges a condition (and a grouped SLO's count of groups, status.groups) into an
        SLOAlert's status; returns the status before. Raises KubeError."""
        ...


Warn = Callable[[Resource, Condition], None]

T = TypeVar("T")

_log = logging.getLogger(__name__)


class _Asked(NamedTuple):
    """What a pass asks about one SLOAlert: its selectors, and its groups if grouped."""

    probes: series_check.Probes
    grouping: series_check.Grouping | None


class SeriesWatch:
    def __init__(
        self,
        source: series_check.SeriesSource,
        *,
        url: str,
        period: float,
        delay: float,
        record: Record,
        on_no_series: Warn,
        states: ConditionStates,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`record` writes the condition (through the reconciler, which owns the status);
        `on_no_series` hears of each SLOAlert whose SeriesFound has just turned False."""
        self._source = source
        self._url = url
        self._period = period
        self._delay = delay
        self._record = record
        self._on_no_series = on_no_series
        self._states = states
        self._clock = clock
        self._due: dict[Key, float] = {}
        self._lookups: dict[Key, OwnerLookup] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start checking (again: nothing). Called from a handler, not at start-up: the task
        inherits the caller's context, where kopf can post Events (it sets that up for
        handlers, not for start-up activities)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def soon(self, key: Key, owner: OwnerLookup) -> None:
        """Check `key` `delay` from now (or sooner, if it was due sooner); `owner` reads the
        SLOAlert as it is at check time."""
        self._lookups[key] = owner
        self._due[key] = min(self._due.get(key, math.inf), self._clock() + self._delay)
        self._wake.set()

    def forget(self, key: Key) -> None:
        self._due.pop(key, None)
        self._lookups.pop(key, None)
        self._states.forget(key)

    async def _run(self) -> None:
        while True:
            now = self._clock()
            first = min(self._due.values(), default=math.inf)
            if first > now:
                self._wake.clear()
                wait = None if math.isinf(first) else first - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            soonest = sorted((when, k) for k, when in self._due.items())[:MAX_PER_PASS]
            keys = [key for when, key in soonest if when <= now + COALESCE_SECONDS]
            for key in keys:
                self._due[key] = now + self._period
            try:
                await self.check(keys)
            except Exception:  # a bug must not end the checks of every other SLOAlert
                _log.exception("SeriesFound check of %d SLOAlert(s) failed", len(keys))

    async def check(self, keys: list[Key]) -> None:
        """One pass: ask about every selector these SLOAlerts read, write each SeriesFound."""
        owners, groups = self._read(keys)
        if not groups:
            return
        conditions, counts = await self._conditions(groups)
        for key, condition in conditions.items():
            try:
                await self._write(key, owners[key], condition, counts.get(key))
            except Exception:  # one SLOAlert's failure must not skip the others' writes
                _log.exception("SeriesFound of SLOAlert %s/%s not written", *key)

    def _read(self, keys: list[Key]) -> tuple[dict[Key, Resource], dict[Key, _Asked]]:
        owners: dict[Key, Resource] = {}
        groups: dict[Key, _Asked] = {}
        for key in keys:
            lookup = self._lookups.get(key)
            owner = lookup() if lookup else None
            if owner is None:
                self.forget(key)  # deleted
                continue
            try:
                spec = load(owner).spec
                asked = _Asked(series_check.probes(spec), series_check.grouping(spec))
            except InvalidSLOAlert:
                # Nothing to check; the fix is an edit, whose reconcile schedules a check.
                self._due.pop(key, None)
                continue
            if not is_deleting(owner):
                owners[key], groups[key] = owner, asked
        return owners, groups

    async def _conditions(
        self, groups: dict[Key, _Asked]
    ) -> tuple[dict[Key, Condition], dict[Key, int]]:
        """SeriesFound per SLOAlert, and the count of groups of each grouped one counted."""
        probes = [probe for asked in groups.values() for probe in asked.probes]
        required, optional = series_check.split(probes)
        source = series_check.Remembering(self._source)
        try:
            found = await self._ask(series_check.live(required, source))
        except series_check.PrometheusError as exc:
            return {key: series_unknown(exc) for key in groups}, {}
        dead = [(s, False) for s in required if s not in found] + [(s, True) for s in optional]
        answers = await asyncio.gather(*(self._explain(s, source, lightly) for s, lightly in dead))
        explained = [(s, a) for (s, _), a in zip(dead, answers, strict=True)]
        errors = {s: a for s, a in explained if isinstance(a, Exception)}
        findings = {s: a for s, a in explained if s not in errors}
        counted = {key: asked.grouping for key, asked in groups.items() if asked.grouping}
        counts = await asyncio.gather(*(self._count(g, source) for g in counted.values()))
        answers = dict(zip(counted, counts, strict=True))
        conditions = {}
        for key, asked in groups.items():
            failed = [errors[p.selector] for p in asked.probes if p.selector in errors]
            answer = answers.get(key)
            if isinstance(answer, series_check.PrometheusError):
                failed.append(answer)
            if failed:
                conditions[key] = series_unknown(failed[0])
                continue
            too_many = [answer.over] if answer and answer.over else []
            conditions[key] = series_found(
                series_check.verdicts(asked.probes, found, findings) + too_many, len(asked.probes)
            )
        done = {key: a.count for key, a in answers.items() if isinstance(a, series_check.Counted)}
        return conditions, done

    async def _count(
        self, grouping: series_check.Grouping, source: series_check.SeriesSource
    ) -> series_check.Counted | series_check.PrometheusError:
        try:
            return await self._ask(grouping.check(source))
        except series_check.PrometheusError as exc:
            return exc

    async def _explain(
        self, selector: Selector, source: series_check.SeriesSource, names_and_job: bool
    ) -> series_check.Finding | series_check.PrometheusError | None:
        try:
            return await self._ask(
                series_check.explain(selector, source, names_and_job=names_and_job)
            )
        except series_check.PrometheusError as exc:
            return exc

    async def _ask(self, question: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                return await question
        except TimeoutError:
            raise series_check.PrometheusUnreachable(
                f"Prometheus at {self._url}: no answer within {CHECK_TIMEOUT_SECONDS:g}s"
            ) from None

    async def _write(
        self, key: Key, owner: Resource, condition: Condition, groups: int | None
    ) -> None:
        try:
            before = await self._record(owner, condition, groups=groups)
        except KubeError as exc:
            _log.warning("SeriesFound of SLOAlert %s/%s not written: %s", *key, exc)
            if key in self._due:
                self._due[key] = self._clock() + min(self._period, WRITE_RETRY_SECONDS)
            return
        self._states.set(key, condition.status)
        if turned_false(before, condition):
            self._on_no_series(owner, condition)
