"""Remember, for a while, which parts of which notification already reached Discord.

Alertmanager and Grafana retry a whole notification when we answer 503. If three of its five
messages went through before Discord failed, the retry must post only the last two. A part is
known by the notification's identity (group, status, and each alert's identity and times) plus
its index and content, so a different notification never collides with one we delivered.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from discord_relay.payloads import Alert, AlertmanagerNotification


def notification_key(notification: AlertmanagerNotification, source: str) -> str:
    # The alerts in any order: a sum of their digests rather than a digest of them sorted. A
    # sort of 100,000 alerts is one long call that holds the interpreter lock; the sum is a loop
    # the event loop's thread can interrupt, and just as linear.
    alerts = sum(map(_alert_digest, notification.alerts)) % 2**256
    return _digest(
        [
            source,
            notification.receiver,
            notification.group_key,
            notification.status,
            notification.truncated_alerts,
            len(notification.alerts),
            alerts,
        ]
    )


def _alert_digest(alert: Alert) -> int:
    # repr() of a tuple of strings is unambiguous and ASCII-safe for any text (it escapes what
    # is not printable), and several times cheaper than JSON for 100,000 alerts.
    identity = alert.fingerprint or repr(sorted(alert.labels.items()))
    encoded = repr((identity, alert.status, alert.starts_at, alert.ends_at)).encode()
    return int.from_bytes(hashlib.sha256(encoded).digest())


def part_key(notification: str, index: int, body: bytes) -> str:
    """`body`: the message as posted (`messages.encode_message`), the same bytes for the same
    message, so a retry finds the parts it delivered."""
    return hashlib.sha256(b"%s\n%d\n%s" % (notification.encode(), index, body)).hexdigest()


def _digest(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0


class DeliveredParts:
    """A bounded memory with expiry: at most `max_entries` parts, each kept `ttl` seconds."""

    def __init__(
        self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._locks: dict[str, _KeyLock] = {}

    def __contains__(self, part: str) -> bool:
        self._forget_expired()
        return part in self._expiry

    def __len__(self) -> int:
        self._forget_expired()
        return len(self._expiry)

    def remember(self, part: str) -> None:
        self._expiry[part] = self._clock() + self._ttl
        self._expiry.move_to_end(part)
        while len(self._expiry) > self._max_entries:
            self._expiry.popitem(last=False)

    def _forget_expired(self) -> None:
        now = self._clock()
        # Insertion order is expiry order (constant TTL), so expired parts are all at the front.
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)

    @asynccontextmanager
    async def exclusive(self, notification: str) -> AsyncIterator[None]:
        """Serialise deliveries of one notification: a retry that arrives while the first
        attempt is still posting waits, then sees what that attempt delivered."""
        entry = self._locks.setdefault(notification, _KeyLock())
        entry.holders += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._locks[notification]
