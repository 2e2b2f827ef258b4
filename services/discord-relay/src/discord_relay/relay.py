"""One notification through: messages built, the ones not yet delivered posted, in order."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from discord_relay.dedup import DeliveredParts, notification_key, part_key
from discord_relay.delivery import DeliveryError, Sink
from discord_relay.messages import Message, Source, build_messages, encode_message
from discord_relay.metrics import RelayMetrics
from discord_relay.payloads import AlertmanagerNotification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered:
    messages: int
    sent: int
    already_delivered: int


class NotDelivered(Exception):
    """Some messages did not reach Discord in time; the ones that did are remembered."""

    def __init__(self, reason: str, *, retry_after: float | None, delivered: int, total: int):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.delivered = delivered
        self.total = total


@dataclass
class Relay:
    sink: Sink
    memory: DeliveredParts
    metrics: RelayMetrics
    username: str
    avatar_url: str | None
    budget_seconds: float

    async def deliver(
        self, notification: AlertmanagerNotification, source: Source, *, inline: bool
    ) -> Delivered:
        """Post `notification`'s messages not yet delivered. `inline`: plan them on the event
        loop (a small notification); else in a worker thread: planning is linear in the
        alerts, and a notification may hold 100,000 of them, so the event loop (and /healthz
        with it) keeps answering meanwhile."""
        deadline = time.monotonic() + self.budget_seconds
        if inline:
            messages, key = self._plan(notification, source)
        else:
            messages, key = await asyncio.to_thread(self._plan, notification, source)
        sent = skipped = 0
        # Timed by hand, and the histogram's child looked up after: prometheus_client's timer
        # and labels() cost tens of microseconds ahead of the post on a cold process
        # (bench/notes/relay.md).
        started = time.monotonic()
        try:
            async with self.memory.exclusive(key):
                for index, message in enumerate(messages):
                    body = encode_message(message)
                    part = part_key(key, index, body)
                    if part in self.memory:
                        skipped += 1
                        continue
                    try:
                        await self.sink.send(message, body, deadline)
                    except DeliveryError as exc:
                        log.error(
                            "notification not delivered",
                            extra={
                                "source": source,
                                "notification": key[:16],
                                "part": index + 1,
                                "parts": len(messages),
                                "reason": exc.reason,
                            },
                        )
                        raise NotDelivered(
                            f"part {index + 1}/{len(messages)}: {exc.reason}",
                            retry_after=exc.retry_after,
                            delivered=sent + skipped,
                            total=len(messages),
                        ) from exc
                    self.memory.remember(part)
                    sent += 1
        finally:
            self.metrics.delivery_seconds.labels(source=source).observe(time.monotonic() - started)
        self.metrics.parts_already_delivered.inc(skipped)
        log.info(
            "notification delivered",
            extra={
                "source": source,
                "notification": key[:16],
                "alerts": len(notification.alerts),
                "parts": len(messages),
                "sent": sent,
                "already_delivered": skipped,
            },
        )
        return Delivered(messages=len(messages), sent=sent, already_delivered=skipped)

    def _plan(
        self, notification: AlertmanagerNotification, source: Source
    ) -> tuple[list[Message], str]:
        """The messages to post and the notification's identity: pure, CPU only."""
        messages = build_messages(
            notification, source, username=self.username, avatar_url=self.avatar_url
        )
        return messages, notification_key(notification, source)
