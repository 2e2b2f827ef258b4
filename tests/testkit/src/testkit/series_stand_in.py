"""An in-memory stand-in for Prometheus' series and labels API, for the series check's unit
tests (sloalert.series_check, the operator's SeriesWatch): a fixed list of series, matched as
PromQL matches them, and a record of every request. The real API is tested against a real
Prometheus (operator/tests/integration/test_sloalert_check_prometheus.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import promql_parser
from sloalert.promql import parse_selector
from sloalert.series_check import SeriesPage, selects


class SeriesInMemory:
    """A `sloalert.series_check.SeriesSource` over `series` (label sets with `__name__`)."""

    def __init__(self, series: Sequence[dict[str, str]]) -> None:
        self.all = list(series)
        self.requests: list[tuple[str, Any]] = []

    def _matching(self, selector: str) -> list[dict[str, str]]:
        parsed = parse_selector(selector)
        return [labels for labels in self.all if selects(parsed, labels)]

    async def series(self, selectors: Sequence[str], *, limit: int) -> SeriesPage:
        self.requests.append(("series", list(selectors)))
        matched = [self._matching(selector) for selector in selectors]
        found = [labels for labels in self.all if any(labels in m for m in matched)]
        return SeriesPage(found[:limit], truncated=len(found) >= limit)

    async def label_names(self, selector: str) -> list[str]:
        self.requests.append(("labels", selector))
        return sorted({name for labels in self._matching(selector) for name in labels})

    async def label_values(self, label: str, selector: str, *, limit: int) -> list[str]:
        self.requests.append(("values", (label, selector)))
        values = {labels[label] for labels in self._matching(selector) if label in labels}
        return sorted(values)[:limit]

    async def count(self, query: str) -> int:
        """The one query shape the check sends: `count(count by (labels) (selector))`, the
        number of distinct values of `labels` among the series `selector` matches."""
        self.requests.append(("count", query))
        outer = promql_parser.parse(query)
        inner = getattr(outer, "expr", None)
        if not (
            isinstance(outer, promql_parser.AggregateExpr)
            and isinstance(inner, promql_parser.AggregateExpr)
            and str(outer.op) == str(inner.op) == "count"
            and isinstance(inner.expr, promql_parser.VectorSelector)
        ):
            raise NotImplementedError(
                f"the stand-in counts only count(count by (...) (x)): {query}"
            )
        names = inner.modifier.labels
        matched = self._matching(str(inner.expr))
        return len({tuple(labels.get(name, "") for name in names) for labels in matched})
