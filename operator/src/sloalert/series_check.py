"""Whether Prometheus has the series an SLOAlert's indicator reads, and if not, why.

The selectors checked are the ones the no-data alert reads (`SLI.sources`): a ratio's total,
a latency's `+Inf` bucket, every selector of an expression. The errors of a ratio are not
checked: they may rightly not exist before the first error.

Selectors an expression allows to be absent (`... or vector(0)`, the way sloalert's own ratio
reads its errors) are checked for their metric and label names only: their values, like
`status="5xx"`, may rightly appear later, but a misspelt name never matches, and neither does
a `job` no target is scraped as (the charts set `job` to what the presets read: a contract).

The logic is free of network code: it asks a `SeriesSource` (the HTTP adapter is
`sloalert.adapters.prometheus_api`; tests may give another), batching the selectors, and for
each one that matches nothing asks one to three more cheap questions to say why, plainly:

    no series named http_request_total
    http_requests_total exists, but none with job="fastap"; job has: django, fastapi, node
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import promql_parser

from sloalert import indicators
from sloalert.models import SLOAlertSpec
from sloalert.promql import (
    METRIC_NAME_LABEL,
    Matcher,
    Selector,
    parse,
    selectors_in,
    with_window,
)

# Selectors per series request, and label sets read per request: a batch that hits the limit
# is not trusted for the selectors it did not confirm, which are then asked about one by one.
BATCH_SIZE: Final = 25
SERIES_LIMIT: Final = 2500
# Label values named in a message ("job has: a, b, c, d, e, ..."), and read at most.
VALUES_SHOWN: Final = 5
VALUES_LIMIT: Final = 1000
JOB_LABEL: Final = "job"
# Nodes that hold one expression in `.expr`.
_WRAPPERS: Final = (
    promql_parser.ParenExpr,
    promql_parser.AggregateExpr,
    promql_parser.UnaryExpr,
    promql_parser.SubqueryExpr,
)

Labels = Mapping[str, str]
K = TypeVar("K")
T = TypeVar("T")


class PrometheusError(Exception):
    """Prometheus could not answer: the check knows nothing, so it must not say "no series"."""


class PrometheusUnreachable(PrometheusError):
    """No answer: refused, timed out, not resolvable."""


class PrometheusRefused(PrometheusError):
    """An answer, but an error (an HTTP error status or an API error)."""


@dataclass(frozen=True)
class SeriesPage:
    series: list[dict[str, str]]
    truncated: bool


class SeriesSource(Protocol):
    """Prometheus' series and labels API over a recent lookback (raises PrometheusError)."""

    async def series(self, selectors: Sequence[str], *, limit: int) -> SeriesPage:
        """Label sets of the series matching any of `selectors`, at most `limit`."""
        ...

    async def label_names(self, selector: str) -> list[str]:
        """Label names of the series matching `selector` (none: no such series)."""
        ...

    async def label_values(self, label: str, selector: str, *, limit: int) -> list[str]:
        """Values of `label` on the series matching `selector`, sorted, at most `limit`."""
        ...


@dataclass(frozen=True)
class Probe:
    """A selector an indicator reads, and the field of the spec it comes from."""

    field: str
    selector: Selector
    optional: bool = False
    """The expression allows it to be absent: only its metric and label names are checked."""


@dataclass(frozen=True)
class Finding:
    """Why a selector matches nothing.

    `certain`: it cannot be a matter of time (a metric or label name exists nowhere, or no
    target has that `job`), as opposed to a value, like status="5xx", not seen yet.
    """

    message: str
    certain: bool


@dataclass(frozen=True)
class Dead:
    probe: Probe
    message: str


Probes = tuple[Probe, ...]


def probes(spec: SLOAlertSpec) -> Probes:
    """The selectors a (validated) spec's indicator reads, as the no-data alert reads them."""
    indicator = spec.indicator
    sources = indicators.build(indicator).sources
    if indicator.preset is not None:
        field = "spec.indicator.preset"
    elif indicator.ratio is not None:
        field = "spec.indicator.ratio.total"
    elif indicator.latency is not None:
        field = "spec.indicator.latency.histogram"
    else:
        assert indicator.expression is not None
        field = "spec.indicator.expression"
        expr = parse(with_window(indicator.expression, indicators.PROBE_WINDOW))
        optional = optional_selectors(expr)
        return tuple(Probe(field, s, optional=s in optional) for s in sources)
    return tuple(Probe(field, selector) for selector in sources)


def optional_selectors(expr: promql_parser.Expr) -> set[Selector]:
    """Selectors read only on the left of an `or` whose right side is `vector(...)`.

    A selector read anywhere else too is required.
    """
    everywhere = selectors_in(expr)
    required = set(_required(expr))
    return {selector for selector in everywhere if selector not in required}


def _required(node: promql_parser.Expr) -> Iterable[Selector]:
    if isinstance(node, promql_parser.BinaryExpr):
        if str(node.op) == "or" and _is_vector_call(node.rhs):
            return  # the left side may be absent: vector(...) stands in for it
        yield from _required(node.lhs)
        yield from _required(node.rhs)
    elif isinstance(node, promql_parser.VectorSelector | promql_parser.MatrixSelector):
        yield from selectors_in(node)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from _required(arg)
    elif isinstance(node, _WRAPPERS):
        yield from _required(node.expr)


def _is_vector_call(node: promql_parser.Expr) -> bool:
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return isinstance(node, promql_parser.Call) and node.func.name == "vector"


# --- Matching a label set, as Prometheus does ----------------------------------------------
def accepts(matcher: Matcher, value: str | None) -> bool | None:
    """Whether `matcher` accepts a label's value (None: the label is absent, which matches
    as ""). None when the regex is one Python cannot read like Go's RE2 does."""
    value = value or ""
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    try:
        # PromQL regexes are fully anchored.
        found = re.fullmatch(matcher.value, value) is not None
    except re.error:
        return None
    return found if matcher.op == "=~" else not found


def selects(selector: Selector, labels: Labels) -> bool | None:
    """Whether `selector` selects a series with `labels`; None when that cannot be told here."""
    if selector.metric is not None and labels.get(METRIC_NAME_LABEL) != selector.metric:
        return False
    undecided = False
    for matcher in selector.matchers:
        verdict = accepts(matcher, labels.get(matcher.label))
        if verdict is False:
            return False
        undecided = undecided or verdict is None
    return None if undecided else True


# --- Asking ---------------------------------------------------------------------------------
async def live(selectors: Iterable[Selector], source: SeriesSource) -> set[Selector]:
    """The selectors that match at least one series, asked in batches of BATCH_SIZE (at once:
    the source bounds the requests in flight)."""
    unique = list(dict.fromkeys(selectors))
    batches = [unique[start : start + BATCH_SIZE] for start in range(0, len(unique), BATCH_SIZE)]
    answers = await asyncio.gather(*(_live_in(batch, source) for batch in batches))
    return set().union(*answers)


async def _live_in(batch: list[Selector], source: SeriesSource) -> set[Selector]:
    page = await source.series([str(s) for s in batch], limit=SERIES_LIMIT)
    found, unsure = set(), []
    for selector in batch:
        verdicts = {selects(selector, labels) for labels in page.series}
        if True in verdicts:
            found.add(selector)
        elif page.truncated or None in verdicts:
            unsure.append(selector)
    answers = await asyncio.gather(*(_matches(selector, source) for selector in unsure))
    return found | {selector for selector, hit in zip(unsure, answers, strict=True) if hit}


async def explain(selector: Selector, source: SeriesSource) -> Finding | None:
    """Why `selector` matches nothing; None if it matches after all (the series just came)."""
    # job first: when it is wrong too, that is the reason worth giving.
    matchers = sorted(selector.matchers, key=lambda matcher: not _is_job(matcher))
    if selector.metric is None:
        # Nothing to start from but the first matcher: {job="x"} alone.
        if not matchers:
            return None
        base = Selector(None, (matchers.pop(0),))
        if not await _matches(base, source):
            return Finding(f"no series with {base.matchers[0]}", certain=_is_job(base.matchers[0]))
    else:
        base = Selector(selector.metric)
        names = set(await source.label_names(str(base))) - {METRIC_NAME_LABEL}
        if not names:
            return Finding(f"no series named {selector.metric}", certain=True)
        for matcher in matchers:
            if matcher.label not in names and accepts(matcher, None) is False:
                return Finding(
                    f"{base} exists, but none with {matcher}; its series have no label "
                    f"{matcher.label}, only: {', '.join(sorted(names))}",
                    certain=True,
                )
    prefix = base
    for matcher in matchers:
        values = await source.label_values(matcher.label, str(prefix), limit=VALUES_LIMIT)
        narrower = Selector(prefix.metric, (*prefix.matchers, matcher))
        if not await _selects_some(matcher, values, narrower, source):
            message = f"{prefix} exists, but none with {matcher}; {_has(matcher.label, values)}"
            return Finding(message, certain=_is_job(matcher))
        prefix = narrower
    return None


async def _selects_some(
    matcher: Matcher, values: Sequence[str], narrower: Selector, source: SeriesSource
) -> bool:
    """Whether `narrower` (a prefix and `matcher`) selects a series, given the values the
    prefix's series have for the matcher's label. Decided from the values when they tell
    (every SLOAlert of a job asks about the same values: one request for all); else asked."""
    complete = len(values) < VALUES_LIMIT
    if matcher.op == "=" and matcher.value and complete:
        return matcher.value in values
    if matcher.op == "!=" and any(value != matcher.value for value in values):
        return True
    return await _matches(narrower, source)


class Remembering:
    """A SeriesSource that asks each question once: for one check of many SLOAlerts, whose
    dead selectors share metrics and labels (the same `job` values, the same label names)."""

    def __init__(self, source: SeriesSource) -> None:
        self._source = source
        self._answers: dict[tuple[object, ...], asyncio.Task[Any]] = {}

    def _once(self, key: tuple[object, ...], ask: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        if key not in self._answers:
            task = asyncio.ensure_future(ask())
            # Seen by one asker at least, even if every asker timed out (no "never retrieved").
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._answers[key] = task
        # Shielded: one asker's timeout must not cancel the answer the others wait for.
        return asyncio.shield(self._answers[key])

    async def series(self, selectors: Sequence[str], *, limit: int) -> SeriesPage:
        key = ("series", tuple(selectors), limit)
        return await self._once(key, lambda: self._source.series(selectors, limit=limit))

    async def label_names(self, selector: str) -> list[str]:
        return await self._once(("labels", selector), lambda: self._source.label_names(selector))

    async def label_values(self, label: str, selector: str, *, limit: int) -> list[str]:
        key = ("values", label, selector, limit)
        return await self._once(
            key, lambda: self._source.label_values(label, selector, limit=limit)
        )


async def check_many(
    groups: Mapping[K, Sequence[Probe]], source: SeriesSource
) -> dict[K, list[Dead]]:
    """For each group (an SLOAlert's probes), those whose selector reads nothing, with the
    reason. Selectors are asked once however many groups read them."""
    source = Remembering(source)
    found = await live((p.selector for probes in groups.values() for p in probes), source)
    dead = list(
        dict.fromkeys(
            p.selector for probes in groups.values() for p in probes if p.selector not in found
        )
    )
    findings = dict(
        zip(dead, await asyncio.gather(*(explain(s, source) for s in dead)), strict=True)
    )
    return {key: verdicts(probes, found, findings) for key, probes in groups.items()}


def verdicts(
    probes: Sequence[Probe], found: set[Selector], findings: Mapping[Selector, Finding | None]
) -> list[Dead]:
    """One SLOAlert's dead probes, from what was found (an optional one only if certain)."""
    dead = []
    for probe in probes:
        if probe.selector in found:
            continue
        finding = findings.get(probe.selector)
        if finding is None or (probe.optional and not finding.certain):
            continue
        dead.append(Dead(probe, finding.message))
    return dead


async def _matches(selector: Selector, source: SeriesSource) -> bool:
    return bool((await source.series([str(selector)], limit=1)).series)


def _is_job(matcher: Matcher) -> bool:
    return matcher.label == JOB_LABEL


def _has(label: str, values: Sequence[str]) -> str:
    if not values:
        return f"none of them has a label {label}"
    ordered = sorted(values)
    shown = ordered[:VALUES_SHOWN]
    more = ", ..." if len(ordered) > VALUES_SHOWN else ""
    return f"{label} has: {', '.join(shown)}{more}"
