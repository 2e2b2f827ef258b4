"""Remember, for a while, which parts of which notification already reached Discord.

Alertmanager and Grafana retry a whole notification when we answer 503. If three of its five
messages went through before Discord failed, the retry must post only the last two. A part is
known by the notification's identity (group, status, and each alert's identity and times) plus
its index and content, so a different notification never collides with one we delivered.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from discord_relay.payloads import Alert, AlertmanagerNotification


def notification_key(notification: AlertmanagerNotification, source: str) -> str:
    # The alerts in any order: a sum of their digests rather than a digest of them sorted. A
    # sort of 100,000 alerts is one long call that holds the interpreter lock; the sum is a loop
    # the event loop's thread can interrupt, and just as linear.
    alerts = sum(map(_alert_digest, notification.alerts)) % 2**256
    identity = (
        source,
        notification.receiver,
        notification.group_key,
        notification.status,
        notification.truncated_alerts,
        len(notification.alerts),
        alerts,
    )
    return _hash(_text(identity)).hex()


def _alert_digest(alert: Alert) -> int:
    identity = alert.fingerprint or repr(sorted(alert.labels.items()))
    return int.from_bytes(_hash(_text((identity, alert.status, alert.starts_at, alert.ends_at))))


def part_key(notification: str, index: int, body: bytes) -> str:
    """`body`: the message as posted (`messages.encode_message`), the same bytes for the same
    message, so a retry finds the parts it delivered."""
    return _hash(b"%s\n%d\n%s" % (notification.encode(), index, body)).hex()


def _text(value: tuple[Any, ...]) -> bytes:
    # repr() of a tuple of strings and integers is unambiguous, and always encodable: it escapes
    # what is not printable, a lone surrogate included. Several times cheaper than JSON for
    # 100,000 alerts, and it needs no JSON encoder ahead of the post.
    return repr(value).encode()


def _hash(data: bytes) -> bytes:
    # blake2b is hashlib's own: sha256 goes through OpenSSL, whose per-call setup a relay that
    # wakes cold for each notification pays on the latency's path (bench/notes/relay.md).
    return hashlib.blake2b(data, digest_size=32).digest()


class _Exclusive:
    """`async with`: one holder of a notification's lock at a time; the lock is dropped with
    its last holder. A plain class: contextlib's generator-based manager cost tens of
    microseconds ahead of each post on a cold process (bench/notes/relay.md)."""

    __slots__ = ("_entry", "_locks", "_notification")

    def __init__(self, locks: dict[str, _KeyLock], notification: str) -> None:
        self._locks = locks
        self._notification = notification

    async def __aenter__(self) -> None:
        entry = self._locks.get(self._notification)
        if entry is None:
            entry = self._locks[self._notification] = _KeyLock()
        entry.holders += 1
        self._entry = entry
        try:
            await entry.lock.acquire()
        except BaseException:  # cancelled while waiting: no longer a holder
            self._leave()
            raise

    async def __aexit__(self, *_: object) -> None:
        self._entry.lock.release()
        self._leave()

    def _leave(self) -> None:
        self._entry.holders -= 1
        if self._entry.holders == 0:
            del self._locks[self._notification]


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

    def exclusive(self, notification: str) -> _Exclusive:
        """Serialise deliveries of one notification: a retry that arrives while the first
        attempt is still posting waits, then sees what that attempt delivered."""
        return _Exclusive(self._locks, notification)
