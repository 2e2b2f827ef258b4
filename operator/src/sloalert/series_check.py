"""Whether Prometheus has the series an SLOAlert's indicator reads, and if not, why.

The selectors checked are the ones the no-data alert reads (`SLI.sources`): a ratio's total,
a latency's `+Inf` bucket, every selector of an expression; and a ratio's errors.

Selectors that may rightly be absent (a ratio's errors, before the first error; an
expression's `... or vector(0)`, the way sloalert's own ratio reads its errors) are checked
for their metric and label names only: their values, like `status="5xx"`, may rightly appear
later, but a misspelt name never matches, and neither does a `job` no target is scraped as
(the charts set `job` to what the presets read: a contract).

A matcher whose value is a plain alternation (`job=~"django|fastapi"`) is checked once per
alternative, as if each were written alone: one alternative that reads nothing makes the
query silently cover less than it says, and the message names that one.

The logic is free of network code: it asks a `SeriesSource` (the HTTP adapter is
`sloalert.adapters.prometheus_api`; tests may give another), batching the selectors, and for
each one that matches nothing asks one to three more cheap questions to say why, plainly:

    no series named http_request_total
    http_requests_total exists, but none with job="fastap"; no target of that job exports it

A message names label values only among the series of the selector's own `job` (after its
`job="..."` matcher): in a shared Prometheus the values of other jobs are other teams' data.

A grouped SLO (indicator.groupBy) also has its groups counted (`sloalert.groups`' instant
query); more than its limit is reported like a dead selector, naming the count. And every
groupBy label must be among the label names of its errors and total series: errors without it
sum into no group, and the SLO would never fire.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import promql_parser

from sloalert import groups as grouped_slos
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
from sloalert.sli import LatencySLI, RatioSLI

# Selectors per series request, and label sets read per request: a batch that hits the limit
# is not trusted for the selectors it did not confirm, which are then asked about one by one.
BATCH_SIZE: Final = 25
SERIES_LIMIT: Final = 2500
# Label values named in a message ("job has: a, b, c, d, e, ..."), and read at most.
VALUES_SHOWN: Final = 5
VALUES_LIMIT: Final = 1000
JOB_LABEL: Final = "job"
GROUP_BY_FIELD: Final = "spec.indicator.groupBy"
# Two literal alternatives or more, none empty: `a|b`, not `5..|4..` nor `a|` (which also
# matches the label's absence).
_LITERAL: Final = r"[^\\.+*?()\[\]{}^$|]+"
_PLAIN_ALTERNATION: Final = re.compile(rf"{_LITERAL}(?:\|{_LITERAL})+")
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

    async def count(self, query: str) -> int:
        """The number an instant `count(...)` query gives now (0 when it gives nothing)."""
        ...


@dataclass(frozen=True)
class Probe:
    """A selector an indicator reads, and the field of the spec it comes from."""

    field: str
    selector: Selector
    optional: bool = False
    """It may rightly be absent: only its metric and label names, and its job, are checked."""
    alternative_of: Matcher | None = None
    """The alternation matcher (`job=~"a|b"`) this selector stands for one alternative of."""


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


@dataclass(frozen=True)
class Grouping:
    """A grouped SLO's (indicator.groupBy) groups, to be counted against its limit, and the
    series that must carry every groupBy label."""

    probe: Probe
    """The field the message names, and the selector whose groups are counted."""
    query: str
    too_many: Callable[[int], str | None]
    """Why a count is over the SLO's limit (None: within it)."""
    labels: tuple[str, ...] = ()
    labelled: tuple[Selector, ...] = ()
    """The selectors whose series must all carry `labels`: a ratio's errors and total. An
    errors series without the label sums into no group, so no group's ratio ever rises (and a
    misspelt label makes one group of everything)."""

    async def check(self, source: SeriesSource) -> Counted:
        missing, count = await asyncio.gather(self._missing(source), source.count(self.query))
        message = missing or self.too_many(count)
        return Counted(count, None if message is None else Dead(self.probe, message))

    async def _missing(self, source: SeriesSource) -> str | None:
        """Why a groupBy label is not on a selector's series (None: it is on all of them, or
        the series do not exist yet, which the probes report)."""
        bases = list(dict.fromkeys(_names_base(selector) for selector in self.labelled))
        answers = await asyncio.gather(*(source.label_names(str(base)) for base in bases))
        for base, names in zip(bases, answers, strict=True):
            absent = [label for label in self.labels if names and label not in names]
            if absent:
                shown = ", ".join(sorted(set(names) - {METRIC_NAME_LABEL}))
                return (
                    f"the series of {base} have no label {', '.join(absent)}, only: {shown}; "
                    "every groupBy label must be on the errors and the total series alike, "
                    "or their events fall in no group"
                )
        return None


def _names_base(selector: Selector) -> Selector:
    """The part of `selector` whose label names tell what its series carry: its metric and
    job (other values, like status="5xx", may rightly not exist yet)."""
    if selector.metric is None:
        return selector
    return Selector(selector.metric, tuple(m for m in selector.matchers if _is_job(m)))


@dataclass(frozen=True)
class Counted:
    """A grouped SLO's groups as counted, and why that is too many (None: it is not)."""

    count: int
    over: Dead | None


def grouping(spec: SLOAlertSpec) -> Grouping | None:
    """How to count a (validated) spec's groups; None when it is not grouped."""
    query = grouped_slos.count_query(spec)
    if query is None:
        return None
    sli = indicators.build(spec.indicator)
    assert isinstance(sli, RatioSLI | LatencySLI)
    labelled = (sli.total, sli.errors) if isinstance(sli, RatioSLI) else (sli.all,)
    probe = Probe(GROUP_BY_FIELD, labelled[0])

    def too_many(count: int) -> str | None:
        message = grouped_slos.too_many(spec, count)
        return None if message is None else message.removeprefix(f"{GROUP_BY_FIELD}: ")

    return Grouping(probe, query, too_many, tuple(spec.indicator.group_by or ()), labelled)


Probes = tuple[Probe, ...]


def probes(spec: SLOAlertSpec) -> Probes:
    """The selectors a (validated) spec's indicator reads, each alternation split."""
    return tuple(split for probe in _probes(spec) for split in per_alternative(probe))


def _probes(spec: SLOAlertSpec) -> Iterable[Probe]:
    indicator = spec.indicator
    sli = indicators.build(indicator)
    if indicator.preset is not None:
        field = "spec.indicator.preset"
    elif indicator.ratio is not None:
        assert isinstance(sli, RatioSLI)
        yield Probe("spec.indicator.ratio.total", sli.total)
        # Absent until the first error: held to its names and job, like `or vector(0)`.
        yield Probe("spec.indicator.ratio.errors", sli.errors, optional=True)
        return
    elif indicator.latency is not None:
        field = "spec.indicator.latency.histogram"
    else:
        assert indicator.expression is not None
        field = "spec.indicator.expression"
        expr = parse(with_window(indicator.expression, indicators.PROBE_WINDOW))
        optional = optional_selectors(expr)
        yield from (Probe(field, s, optional=s in optional) for s in sli.sources)
        return
    yield from (Probe(field, selector) for selector in sli.sources)


def per_alternative(probe: Probe) -> Probes:
    """`probe` once per alternative of each plain-alternation matcher of its selector
    (`job=~"a|b"`: `job="a"`, then `job="b"`); as it is when it has none."""
    return tuple(
        Probe(probe.field, part, probe.optional, alternative_of=matcher)
        for part, matcher in alternatives(probe.selector)
    ) or (probe,)


def alternatives(selector: Selector) -> list[tuple[Selector, Matcher]]:
    """For each matcher of `selector` whose value is a plain alternation, the selector with
    that matcher set to each alternative in turn, with the matcher; [] when there is none."""
    found = []
    for index, matcher in enumerate(selector.matchers):
        if matcher.op != "=~" or not _PLAIN_ALTERNATION.fullmatch(matcher.value):
            continue
        for value in dict.fromkeys(matcher.value.split("|")):
            matchers = list(selector.matchers)
            matchers[index] = Matcher(matcher.label, "=", value)
            found.append((Selector(selector.metric, tuple(matchers)), matcher))
    return found


def optional_selectors(expr: promql_parser.Expr) -> set[Selector]:
    """Selectors read only on the left of an `or` whose right side is `vector(...)` or `0 * x`.

    A selector read anywhere else too is required.
    """
    everywhere = selectors_in(expr)
    required = set(_required(expr))
    return {selector for selector in everywhere if selector not in required}


def _required(node: promql_parser.Expr) -> Iterable[Selector]:
    if isinstance(node, promql_parser.BinaryExpr):
        if str(node.op) == "or" and _stands_in(node.rhs):
            # The left side may be absent: vector(...), or a zero taken from another series
            # (`or 0 * sum(rate(total[...]))`), stands in for it; the right side is read.
            if not _is_vector_call(node.rhs):
                yield from _required(node.rhs)
            return
        yield from _required(node.lhs)
        yield from _required(node.rhs)
    elif isinstance(node, promql_parser.VectorSelector | promql_parser.MatrixSelector):
        yield from selectors_in(node)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from _required(arg)
    elif isinstance(node, _WRAPPERS):
        yield from _required(node.expr)


def _stands_in(node: promql_parser.Expr) -> bool:
    """`vector(...)`, or `0 * x`: what sloalert writes for a count that may not exist yet."""
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) == "*":
        return isinstance(node.lhs, promql_parser.NumberLiteral) and node.lhs.val == 0
    return _is_vector_call(node)


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


async def explain(
    selector: Selector, source: SeriesSource, *, names_and_job: bool = False
) -> Finding | None:
    """Why `selector` matches nothing; None if it matches after all (the series just came).

    `names_and_job`: only what cannot come later is looked at (the metric, the label names,
    the job), as for a selector that may rightly be absent. Those questions are about the
    metric and its jobs, not the selector, so many such selectors of one metric cost the same
    few requests, and none needs asking whether it matches first."""
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
        if names_and_job and not _is_job(matcher):
            break  # the job is first: the rest are values, which may come later
        values = await source.label_values(matcher.label, str(prefix), limit=VALUES_LIMIT)
        narrower = Selector(prefix.metric, (*prefix.matchers, matcher))
        if not await _selects_some(matcher, values, narrower, source):
            message = f"{prefix} exists, but none with {matcher}; {_has(matcher, values, prefix)}"
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

    async def count(self, query: str) -> int:
        return await self._once(("count", query), lambda: self._source.count(query))


async def check_many(
    groups: Mapping[K, Sequence[Probe]],
    source: SeriesSource,
    groupings: Mapping[K, Grouping] | None = None,
) -> dict[K, list[Dead]]:
    """For each group (an SLOAlert's probes), those whose selector reads nothing, with the
    reason, and its `groupings` entry's count when over its limit. Selectors are asked once
    however many groups read them."""
    source = Remembering(source)
    grouped = dict(groupings or {})
    counts = await asyncio.gather(*(grouping.check(source) for grouping in grouped.values()))
    over = {key: c.over for key, c in zip(grouped, counts, strict=True) if c.over is not None}
    required, optional = split([p for probes in groups.values() for p in probes])
    found = await live(required, source)
    asked = [(s, False) for s in required if s not in found] + [(s, True) for s in optional]
    answers = await asyncio.gather(
        *(explain(s, source, names_and_job=lightly) for s, lightly in asked)
    )
    findings = {s: finding for (s, _), finding in zip(asked, answers, strict=True)}
    return {
        key: verdicts(probes, found, findings) + ([over[key]] if key in over else [])
        for key, probes in groups.items()
    }


def split(probes: Sequence[Probe]) -> tuple[list[Selector], list[Selector]]:
    """The selectors asked about in full (some probe requires them), and those held only to
    their names and job (read by optional probes alone); each once, in order."""
    required = dict.fromkeys(p.selector for p in probes if not p.optional)
    optional = dict.fromkeys(p.selector for p in probes if p.selector not in required)
    return list(required), list(optional)


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
        context = f" (one of {probe.alternative_of})" if probe.alternative_of else ""
        dead.append(Dead(probe, finding.message + context))
    return dead


async def _matches(selector: Selector, source: SeriesSource) -> bool:
    return bool((await source.series([str(selector)], limit=1)).series)


def _is_job(matcher: Matcher) -> bool:
    return matcher.label == JOB_LABEL


def _has(matcher: Matcher, values: Sequence[str], prefix: Selector) -> str:
    """What the series of `prefix` have for the matcher's label, naming values only when
    `prefix` keeps to one job: the values of other jobs are other teams' business."""
    label = matcher.label
    if not values:
        return f"none of them has a label {label}"
    if _is_job(matcher):
        if matcher.op == "=":
            return "no target of that job exports it"
        return "no target of a job it matches exports it (other jobs are not named)"
    if not any(_is_job(m) and m.op == "=" and m.value for m in prefix.matchers):
        return f'{label}\'s values are named only for a selector with a {JOB_LABEL}="..."'
    ordered = sorted(values)
    shown = ordered[:VALUES_SHOWN]
    more = ", ..." if len(ordered) > VALUES_SHOWN else ""
    return f"{label} has: {', '.join(shown)}{more}"
