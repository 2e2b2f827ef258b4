"""The operator's own Prometheus metrics, served on the metrics port."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

Key = tuple[str, str]

OUTCOMES = ("applied", "invalid", "failed")
READY_STATES = ("True", "False", "Unknown")


class ReadyStates(Collector):
    """The Ready status of every SLOAlert the operator has reconciled, exported as a gauge.

    Written from the operator's event loop, read by the scrape thread: the collector reads a
    copy, which CPython makes in one step.
    """

    def __init__(self) -> None:
        self._states: dict[Key, str] = {}

    def set(self, key: Key, ready: str) -> None:
        self._states[key] = ready

    def forget(self, key: Key) -> None:
        self._states.pop(key, None)

    def counts(self) -> dict[str, int]:
        tally = Tally(self._states.copy().values())
        return {state: tally.get(state, 0) for state in READY_STATES}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "sloalert_sloalerts", "SLOAlerts by their Ready condition.", labels=["ready"]
        )
        for state, count in self.counts().items():
            family.add_metric([state], count)
        yield family


class OperatorMetrics:
    """One registry per operator, so several operators in one test process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "sloalert_reconciles",
            "SLOAlert reconciliations by outcome (applied, invalid, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.reconcile_duration = Histogram(
            "sloalert_reconcile_duration_seconds",
            "Time to reconcile one SLOAlert: generate, apply the PrometheusRule, write status.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.drift_repairs = Counter(
            "sloalert_drift_repairs",
            "PrometheusRules put back after a hand edit or deletion.",
            registry=self.registry,
        )
        self.ready = ReadyStates()
        self.registry.register(self.ready)
        for outcome in OUTCOMES:
            self.reconciles.labels(outcome=outcome)
        self._server: tuple[WSGIServer, threading.Thread] | None = None

    def serve(self, host: str, port: int) -> None:
        self._server = start_http_server(port, addr=host, registry=self.registry)

    def stop(self) -> None:
        if self._server is not None:
            server, thread = self._server
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            self._server = None
