"""Prometheus' series and labels API (and instant queries, for a grouped SLO's count of
groups) over HTTP: the `SeriesSource` the series check asks.

Every question covers a bounded recent lookback and reads a bounded number of series; requests
in flight are bounded too, so a thousand SLOAlerts checked at once queue here rather than at
Prometheus. httpx2 is the client the operator already has (lightkube's), with httpx's API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import httpx2

from sloalert.series_check import PrometheusRefused, PrometheusUnreachable, SeriesPage

# An hour: long enough for series scraped now and then, short enough to stay in the head
# block (Prometheus answers from memory) and to forget a metric renamed an hour ago.
LOOKBACK_SECONDS: Final = 3600.0
REQUEST_TIMEOUT_SECONDS: Final = 5.0
MAX_REQUESTS: Final = 4


class PrometheusAPI:
    """A SeriesSource on `url` (`http://prometheus-operated.monitoring:9090`)."""

    def __init__(
        self,
        url: str,
        *,
        lookback_seconds: float = LOOKBACK_SECONDS,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        max_requests: int = MAX_REQUESTS,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        on_request: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_request` hears of every request sent (the operator counts them)."""
        self.url = url.rstrip("/")
        self._client = httpx2.AsyncClient(base_url=self.url, timeout=timeout, transport=transport)
        self._lookback = lookback_seconds
        self._clock = clock
        self._slots = asyncio.Semaphore(max_requests)
        self._on_request = on_request

    async def close(self) -> None:
        await self._client.aclose()

    async def series(self, selectors: Sequence[str], *, limit: int) -> SeriesPage:
        found = await self._ask(
            "POST", "series", {"match[]": list(selectors), "limit": limit, **self._range()}
        )
        return SeriesPage(found, truncated=len(found) >= limit)

    async def label_names(self, selector: str) -> list[str]:
        return await self._ask("POST", "labels", {"match[]": [selector], **self._range()})

    async def label_values(self, label: str, selector: str, *, limit: int) -> list[str]:
        params = {"match[]": [selector], "limit": limit, **self._range()}
        return sorted(await self._ask("GET", f"label/{label}/values", params))

    async def count(self, query: str) -> int:
        # An instant query: `count(...)` of what is there now (Prometheus' 5m lookback).
        found = await self._ask("POST", "query", {"query": query})
        result = found.get("result") if isinstance(found, dict) else None
        if not result:
            return 0
        try:
            return int(float(result[0]["value"][1]))
        except (KeyError, IndexError, TypeError, ValueError):
            raise PrometheusRefused(
                f"Prometheus at {self.url} (/api/v1/query): {query} gave no number: {result!r:.200}"
            ) from None

    def _range(self) -> dict[str, str]:
        now = self._clock()
        return {"start": f"{now - self._lookback:.3f}", "end": f"{now:.3f}"}

    async def _ask(self, method: str, path: str, params: dict[str, Any]) -> Any:
        what = f"Prometheus at {self.url} (/api/v1/{path})"
        async with self._slots:
            self._on_request()
            try:
                if method == "POST":
                    response = await self._client.post(f"/api/v1/{path}", data=params)
                else:
                    response = await self._client.get(f"/api/v1/{path}", params=params)
            except httpx2.TimeoutException:
                raise PrometheusUnreachable(f"{what}: no answer within the timeout") from None
            except httpx2.TransportError as exc:
                raise PrometheusUnreachable(f"{what}: {exc or type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else response.text[:200]
            raise PrometheusRefused(f"{what}: HTTP {response.status_code}: {error}")
        return body.get("data") or []
