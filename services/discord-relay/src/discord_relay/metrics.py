"""The relay's own Prometheus metrics, in a registry per app (tests build many apps)."""

from __future__ import annotations

from typing import Literal, get_args

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

# How one request to Discord ended; a small, fixed set so the label stays cheap.
Outcome = Literal["ok", "rate_limited", "server_error", "timeout", "connection_error", "rejected"]


class RelayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.notifications = Counter(
            "discord_relay_notifications",
            "Notifications received, by source endpoint and the HTTP status code answered.",
            ["source", "code"],
            registry=self.registry,
        )
        self.discord_requests = Counter(
            "discord_relay_discord_requests",
            "Requests sent to the sink (Discord, or the log in log sink mode), by outcome.",
            ["sink", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "discord_relay_discord_retries",
            "Requests to Discord repeated after a 429, a 5xx, a timeout or a refused connection.",
            registry=self.registry,
        )
        self.parts_already_delivered = Counter(
            "discord_relay_parts_already_delivered",
            "Messages not posted again because a retried notification had delivered them before.",
            registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "discord_relay_delivery_seconds",
            "Time spent delivering one notification (all its messages, retries included).",
            ["source"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20),
            registry=self.registry,
        )

    def count_from_zero(self, sink: str) -> None:
        """Every outcome of `sink` at 0 from the start: a panel of refusals or timeouts then
        shows 0 while all is well, rather than no data (a series appears on its first count)."""
        for outcome in get_args(Outcome):
            self.discord_requests.labels(sink=sink, outcome=outcome)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
