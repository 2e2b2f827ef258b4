"""Sending one Discord message: to the real webhook with retries, or to the log.

The Discord sink retries what can get better (429 after `retry_after`, 5xx, timeouts, refused
connections, with exponential backoff and jitter) but never past the caller's deadline: past it,
the relay answers 503 and the sender retries the whole notification later. What cannot get
better (any other 4xx: a bad webhook, a body Discord refuses) fails at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp
from yarl import URL

from discord_relay.metrics import Outcome, RelayMetrics

log = logging.getLogger(__name__)
# In log sink mode these lines are the relay's output, not diagnostics: a quieter
# RELAY_LOG_LEVEL must not drop them while the sender is told "delivered". The level is pinned
# here; the lines still reach the relay's JSON, redacting handler on the root logger.
_sink_log = logging.getLogger("discord_relay.sink")
_sink_log.setLevel(logging.INFO)

Message = dict[str, Any]
SinkKind = Literal["discord", "log"]

# Discord says how long to wait; when it does not, this is a polite guess.
_DEFAULT_RETRY_AFTER = 1.0
_BODY_EXCERPT = 300
_USER_AGENT = "fastdining-discord-relay/0.1"
_JSON = {"Content-Type": "application/json"}


class DeliveryError(Exception):
    """A message could not be delivered within the budget. `retry_after`: when to try again."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Sink(Protocol):
    kind: SinkKind

    async def send(self, message: Message, body: bytes, deadline: float) -> None:
        """Deliver `message` (`body`: as JSON) before `deadline` (time.monotonic()), or raise
        DeliveryError."""
        ...

    async def aclose(self) -> None: ...


class LogSink:
    """No webhook configured: every message the relay would post is one JSON line on stdout."""

    kind: SinkKind = "log"

    def __init__(self, metrics: RelayMetrics) -> None:
        self._metrics = metrics
        metrics.count_from_zero(self.kind)

    async def send(self, message: Message, body: bytes, deadline: float) -> None:
        _sink_log.info("discord message (log sink)", extra={"discord_message": message})
        self._metrics.discord_requests.labels(sink=self.kind, outcome="ok").inc()

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    timeout_seconds: float
    backoff_base_seconds: float
    backoff_max_seconds: float

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, so concurrent
        retries spread out but never come back immediately."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


class DiscordSink:
    """Posts to Discord with aiohttp, which writes a small request's headers and body in one
    socket write; httpx wrote them in two and spent more of the event loop on each request
    (bench/notes/relay.md)."""

    kind: SinkKind = "discord"

    def __init__(self, webhook_url: str, policy: RetryPolicy, metrics: RelayMetrics) -> None:
        # wait=true: Discord answers only once the message is saved, so a 200 means delivered.
        self._url = URL(webhook_url).update_query(wait="true")
        self._policy = policy
        self._metrics = metrics
        metrics.count_from_zero(self.kind)
        # HTTPS_PROXY and NO_PROXY, read once: aiohttp's trust_env reads them (and ~/.netrc)
        # on every request.
        self._proxy = env_proxy(self._url)
        # Made on the first send: a session belongs to the event loop it is made in.
        self._session: aiohttp.ClientSession | None = None
        # Shared by all requests: once Discord says the bucket is empty, nobody posts until then.
        self._not_before = 0.0
        # ceil_threshold: aiohttp would round a timeout of 5 s or more up to a whole second,
        # past the delivery budget. Made once: a request with the whole timeout left (nearly
        # all) uses this one.
        self._timeout = _timeout(policy.timeout_seconds)

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            # No cookie jar: a webhook needs none, and a real one would match the cookies
            # Discord's CDN sets against every request.
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": _USER_AGENT}, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def send(self, message: Message, body: bytes, deadline: float) -> None:
        attempt = 0
        while True:
            attempt += 1
            if self._not_before > time.monotonic():
                await self._wait_for_rate_limit(deadline)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeliveryError("the delivery budget is spent")
            outcome, retry_after, detail = await self._attempt(body, remaining)
            self._metrics.discord_requests.labels(sink=self.kind, outcome=outcome).inc()
            if outcome == "ok":
                return
            if outcome == "rejected":
                raise DeliveryError(f"Discord refused the message: {detail}")
            wait = self._policy.backoff(attempt) if retry_after is None else retry_after
            log.warning(
                "discord request failed",
                extra={"outcome": outcome, "attempt": attempt, "detail": detail, "wait": wait},
            )
            if attempt >= self._policy.max_attempts:
                raise DeliveryError(f"{outcome} after {attempt} attempts", retry_after=wait)
            if time.monotonic() + wait >= deadline:
                raise DeliveryError(
                    f"{outcome}; waiting {wait:.1f}s more would exceed the budget", retry_after=wait
                )
            self._metrics.retries.inc()
            await asyncio.sleep(wait)

    async def _attempt(self, body: bytes, remaining: float) -> tuple[Outcome, float | None, str]:
        """One POST: its outcome, Discord's word on when to try again (None: back off), and
        what went wrong."""
        whole = remaining >= self._policy.timeout_seconds
        timeout = self._timeout if whole else _timeout(remaining)
        try:
            async with self._client().post(
                self._url,
                data=body,
                headers=_JSON,
                proxy=self._proxy,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                answer = await response.read()
        except TimeoutError as exc:
            return "timeout", None, type(exc).__name__
        except aiohttp.ClientError as exc:
            # The exception's text is left out on purpose: some name the URL, a secret.
            return "connection_error", None, type(exc).__name__
        self._note_rate_limit(response.headers)
        if 200 <= response.status < 300:
            return "ok", None, ""
        detail = f"HTTP {response.status} {answer[:_BODY_EXCERPT].decode(errors='replace')}"
        if response.status == 429:
            retry_after = retry_after_seconds(answer, response.headers)
            self._not_before = max(self._not_before, time.monotonic() + retry_after)
            return "rate_limited", retry_after, detail
        if response.status >= 500:
            return "server_error", None, detail
        return "rejected", None, detail

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        if headers.get("X-RateLimit-Remaining") != "0":
            return
        reset_after = _seconds(headers.get("X-RateLimit-Reset-After"))
        if reset_after is not None:
            self._not_before = max(self._not_before, time.monotonic() + reset_after)

    async def _wait_for_rate_limit(self, deadline: float) -> None:
        wait = self._not_before - time.monotonic()
        if wait <= 0:
            return
        if time.monotonic() + wait >= deadline:
            raise DeliveryError(
                f"rate limited by Discord for {wait:.1f}s more, past the budget", retry_after=wait
            )
        await asyncio.sleep(wait)


def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds, ceil_threshold=math.inf)


def env_proxy(url: URL) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY or HTTP_PROXY by its scheme, else
    ALL_PROXY; none for a host in NO_PROXY), if any."""
    if url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(url.scheme) or proxies.get("all")


def retry_after_seconds(body: bytes, headers: Mapping[str, str]) -> float:
    """Discord's `retry_after` (JSON body, seconds) or else the `Retry-After` header (aiohttp
    looks its headers up case-insensitively)."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict):
        seconds = _seconds(document.get("retry_after"))
        if seconds is not None:
            return seconds
    seconds = _seconds(headers.get("Retry-After"))
    return _DEFAULT_RETRY_AFTER if seconds is None else seconds


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds < 86_400 else None
