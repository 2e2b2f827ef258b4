"""The PromQL pieces sloalert reads from users and writes into rules.

User text is parsed with promql-parser (the Rust port of Prometheus' own parser) so mistakes
surface at validation, not at Prometheus. Selectors are re-rendered from the parse, never
spliced as text, so adding a matcher (`le="0.5"`) cannot produce broken PromQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

import promql_parser

from sloalert.conventions import WINDOW_PLACEHOLDER

# MatchOp is not hashable: look it up by equality.
_OPS: Final = (
    (promql_parser.MatchOp.Equal, "="),
    (promql_parser.MatchOp.NotEqual, "!="),
    (promql_parser.MatchOp.Re, "=~"),
    (promql_parser.MatchOp.NotRe, "!~"),
)
METRIC_NAME_LABEL: Final = "__name__"


class PromQLError(ValueError):
    """Text that is not the PromQL it should be; the message says why."""


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # "=", "!=", "=~" or "!~"
    value: str

    def __str__(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True)
class Selector:
    """An instant-vector selector: `metric{label="value", ...}`."""

    metric: str | None
    matchers: tuple[Matcher, ...] = ()

    def __str__(self) -> str:
        inner = ",".join(str(matcher) for matcher in self.matchers)
        if self.metric is None:
            return "{" + inner + "}"
        return f"{self.metric}{{{inner}}}" if inner else self.metric

    def where(self, *matchers: Matcher) -> Selector:
        """This selector with `matchers` added (replacing any on the same label and op)."""
        replaced = {(matcher.label, matcher.op) for matcher in matchers}
        kept = tuple(m for m in self.matchers if (m.label, m.op) not in replaced)
        return replace(self, matchers=kept + matchers)

    def over(self, window: str) -> str:
        """The range selector `self[window]`."""
        return f"{self}[{window}]"

    def labels(self) -> set[str]:
        return {matcher.label for matcher in self.matchers}

    def selects_the_same_as(self, other: Selector) -> bool:
        """Same metric and same matchers, in whatever order: the same series, as written."""
        return self.metric == other.metric and set(self.matchers) == set(other.matchers)


def eq(label: str, value: str) -> Matcher:
    return Matcher(label, "=", value)


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def number(value: float) -> str:
    """A float as a short PromQL literal: 6, 14.4, 0.001."""
    return format(value, ".12g")


def le_value(bound: float) -> str:
    """A histogram bucket bound the way client libraries (and Prometheus 3) write `le`."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def parse(text: str) -> promql_parser.Expr:
    try:
        return promql_parser.parse(text)
    except (ValueError, TypeError) as exc:
        raise PromQLError(f"is not valid PromQL: {exc}") from exc


def parse_selector(text: str) -> Selector:
    """A plain instant-vector selector, or PromQLError saying what else it is."""
    expr = parse(text)
    if isinstance(expr, promql_parser.MatrixSelector):
        raise PromQLError(
            'must be a plain vector selector like metric{label="value"}, without a [range]: '
            "sloalert adds the ranges itself"
        )
    if not isinstance(expr, promql_parser.VectorSelector):
        raise PromQLError(
            f'must be a plain vector selector like metric{{label="value"}}, not a '
            f"{type(expr).__name__} (no functions, operators or aggregations)"
        )
    if expr.offset is not None or expr.at is not None:
        raise PromQLError("must not use offset or @: the alert windows must end now")
    if expr.matchers.or_matchers:
        raise PromQLError("must not use `or` inside the braces: give one set of matchers")
    return _selector(expr)


def selectors_in(expr: promql_parser.Expr) -> list[Selector]:
    """Every vector selector an expression reads, in order, without duplicates."""
    found: list[Selector] = []

    def visit(node: promql_parser.Expr) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            for selector in _selectors(node):
                if selector not in found:
                    found.append(selector)
        return True

    promql_parser.walk(expr, visit)
    return found


def with_window(text: str, window: str) -> str:
    """An expression indicator's text with its `$window` placeholders set to `window`."""
    return text.replace(WINDOW_PLACEHOLDER, window)


def _selector(node: promql_parser.VectorSelector) -> Selector:
    return _selectors(node)[0]


def _selectors(node: promql_parser.VectorSelector) -> list[Selector]:
    """One Selector per `or` group of matchers (Prometheus 3's `{a="1" or b="2"}`)."""
    groups = node.matchers.or_matchers or [node.matchers.matchers]
    selectors = []
    for group in groups:
        metric = node.name
        matchers = []
        for matcher in group:
            op = next(text for kind, text in _OPS if kind == matcher.op)
            if matcher.name == METRIC_NAME_LABEL and op == "=" and metric is None:
                metric = matcher.value
                continue
            matchers.append(Matcher(matcher.name, op, matcher.value))
        selectors.append(Selector(metric, tuple(matchers)))
    return selectors
