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
CONDITION_STATES = ("True", "False", "Unknown")


class ConditionStates(Collector):
    """One condition's status for every SLOAlert the operator has seen, exported as a gauge
    counting SLOAlerts by status (every status there from the start, at 0).

    Written from the operator's event loop, read by the scrape thread: the collector reads a
    copy, which CPython makes in one step.
    """

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self._name, self._documentation, self._label = name, documentation, label
        self._states: dict[Key, str] = {}

    def set(self, key: Key, ready: str) -> None:
        self._states[key] = ready

    def forget(self, key: Key) -> None:
        self._states.pop(key, None)

    def counts(self) -> dict[str, int]:
        tally = Tally(self._states.copy().values())
        return {state: tally.get(state, 0) for state in CONDITION_STATES}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self._name, self._documentation, labels=[self._label])
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
        self.ready = ConditionStates(
            "sloalert_sloalerts", "SLOAlerts by their Ready condition.", "ready"
        )
        self.registry.register(self.ready)
        self.series_found = ConditionStates(
            "sloalert_sloalerts_series_found",
            "SLOAlerts by their SeriesFound condition (checked only with a Prometheus URL).",
            "status",
        )
        self.registry.register(self.series_found)
        self.series_checks = Counter(
            "sloalert_series_check_requests",
            "Requests sent to Prometheus by the SeriesFound check.",
            registry=self.registry,
        )
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
