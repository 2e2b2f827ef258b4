"""The kubelet's reading of probe results: Ready, not Ready, restart."""

from __future__ import annotations

from fdc_podrunner.health import Health
from fdc_podrunner.probes import Probe

READINESS = Probe("http", 8000, "/readyz", initial_delay=0, period=5, failure_threshold=2)
LIVENESS = Probe("http", 8000, "/healthz", initial_delay=10, period=20, failure_threshold=3)


def test_ready_after_a_success_and_unready_only_after_the_threshold() -> None:
    health = Health(READINESS, None, fast=0.2)
    health.started(now=100)
    assert not health.ready and health.readiness_due(100)
    health.readiness_result("HTTP 503", now=100)
    assert not health.ready and health.next_readiness == 100.2  # fast until first Ready
    health.readiness_result(None, now=101)
    assert health.ready and health.next_readiness == 106  # then every periodSeconds
    health.readiness_result("HTTP 503", now=106)
    assert health.ready, "one failure is below failureThreshold 2"
    health.readiness_result("HTTP 503", now=111)
    assert not health.ready and health.last_readiness == "HTTP 503"


def test_liveness_waits_its_initial_delay_and_restarts_after_the_threshold() -> None:
    health = Health(None, LIVENESS)
    health.started(now=0)
    assert health.ready, "no readiness probe: Ready at once"
    assert not health.liveness_due(9.9) and health.liveness_due(10)
    assert not health.liveness_result("refused", now=10)
    assert not health.liveness_result(None, now=30), "a success resets the count"
    assert not health.liveness_result("refused", now=50)
    assert not health.liveness_result("refused", now=70)
    assert health.liveness_result("refused", now=90)
    assert health.next_liveness == 110


def test_a_restart_starts_the_count_and_the_delays_again() -> None:
    health = Health(READINESS, LIVENESS)
    health.started(now=0)
    health.readiness_result(None, now=1)
    health.liveness_failures = 2
    health.started(now=50)
    assert not health.ready and health.liveness_failures == 0
    assert health.next_liveness == 60
