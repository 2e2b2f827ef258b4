"""A real API server for the operator's cluster tests, a fresh namespace per test, the operator.

The API server is the local one `make setup` builds (etcd + the CRD API server), or any
cluster `KUBECONFIG` names. The operator runs in-process with kopf's KopfRunner (real kopf,
real handlers); the restart test runs it as a real process instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.core.exceptions import ApiError
from testkit import apiserver
from testkit.kube import wait_for
from testkit.processes import LOOPBACK, free_port
from testkit.sloalert_cluster import (
    RULE_LABELS,
    Prometheus,
    PrometheusRule,
    SLOAlert,
    client,
    delete_namespace_objects,
    operator_cluster,
)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[apiserver.Cluster]:
    with operator_cluster(tmp_path_factory.mktemp("apiserver")) as running:
        yield running


@pytest.fixture(scope="session")
def kube(cluster: apiserver.Cluster) -> Client:
    kube = client(cluster.kubeconfig)
    # An Established CRD can still answer 429 "storage is (re)initializing" for a moment.
    wait_for(lambda: _served(kube), what="the custom resources to be served")
    return kube


def _served(kube: Client) -> bool:
    try:
        for resource in (SLOAlert, PrometheusRule, Prometheus):
            list(kube.list(resource, namespace="default"))
    except ApiError as exc:
        if exc.status.code == 429:
            return False
        raise
    return True


@pytest.fixture
def namespace(cluster: apiserver.Cluster, kube: Client) -> Iterator[str]:
    """A namespace of its own for each test, emptied afterwards (the local server has no
    garbage collector, so nothing else would delete the rules)."""
    with cluster.namespace("slo") as name:
        yield name
        delete_namespace_objects(kube, name)


@dataclass(frozen=True)
class InProcessOperator:
    runner: KopfRunner
    metrics_url: str
    health_url: str


@pytest.fixture
def operator(
    cluster: apiserver.Cluster, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcessOperator]:
    metrics_port, health_port = free_port(), free_port()
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.setenv("SLOALERT_LISTEN_HOST", LOOPBACK)
    monkeypatch.setenv("SLOALERT_METRICS_PORT", str(metrics_port))
    monkeypatch.setenv("SLOALERT_RULE_LABELS", ",".join(f"{k}={v}" for k, v in RULE_LABELS.items()))
    health_url = f"http://{LOOPBACK}:{health_port}/healthz"
    # On a shared cluster (tests/e2e on kind) the suite's operator watches only the test
    # namespaces (a kopf glob), never the installed release's SLOAlerts.
    scope = os.environ.get("SLOALERT_SUITE_NAMESPACES")
    args = [
        "run",
        "-m",
        "sloalert.operator.handlers",
        "--standalone",
        *(["--namespace", scope] if scope else ["-A"]),
        "--liveness",
        health_url,
    ]
    with KopfRunner(args, timeout=30) as runner:
        metrics_url = f"http://{LOOPBACK}:{metrics_port}/metrics"
        wait_for(lambda: _answers(metrics_url), what=f"the operator's metrics at {metrics_url}")
        yield InProcessOperator(runner, metrics_url, health_url)
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0, runner.output


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
