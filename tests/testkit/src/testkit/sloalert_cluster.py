"""Drive the SLOAlert operator on a real API server: its resources, bounded waits, its process.

Used by the operator's cluster tests and by its benchmark. The operator runs as it does in a
container (`sloalert-operator`), talking to whatever cluster the kubeconfig names.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lightkube import Client, KubeConfig
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_namespaced_resource
from sloalert import conventions

from testkit.apiserver import Cluster, cluster_for_tests
from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.tools import REPO_ROOT

SLOAlert = create_namespaced_resource(*conventions.SLOALERTS)
PrometheusRule = create_namespaced_resource(*conventions.PROMETHEUS_RULES)
Prometheus = create_namespaced_resource(*conventions.PROMETHEUSES)
RULE_LABELS = {"release": "kube-prometheus-stack"}
"""The extra labels the operator under test puts on its rules (kube-prometheus-stack's)."""
OPERATOR_CRDS = sorted((REPO_ROOT / "operator" / "crds").glob("*.yaml"))
MONITORING_STAND_INS = sorted((REPO_ROOT / "tests" / "apiserver" / "crds").glob("*.yaml"))
"""Minimal prometheus-operator CRDs, for clusters without the real ones (the local server)."""


@contextmanager
def operator_cluster(workdir: Path) -> Iterator[Cluster]:
    """KUBECONFIG's cluster or a local test API server, ready for the operator: the SLOAlert
    CRD applied, prometheus-operator's CRDs as the cluster has them or else the stand-ins."""
    with cluster_for_tests(workdir, OPERATOR_CRDS, stand_ins=MONITORING_STAND_INS) as cluster:
        yield cluster


def client(kubeconfig: Path) -> Client:
    return Client(config=KubeConfig.from_file(kubeconfig), field_manager="sloalert-tests")


def sloalert(
    name: str, namespace: str, *, objective: float = 99.5, errors: str | None = None
) -> Any:
    """A valid SLOAlert with a ratio indicator; `errors` replaces its error-count selector."""
    return SLOAlert(
        apiVersion=conventions.API_VERSION,
        kind=conventions.KIND,
        metadata={"name": name, "namespace": namespace},
        spec={
            "service": "checkout",
            "indicator": {
                "ratio": {
                    "errors": errors or 'http_requests_total{job="checkout",status="5xx"}',
                    "total": 'http_requests_total{job="checkout"}',
                }
            },
            "objective": objective,
        },
    )


def prometheus(name: str, namespace: str, rule_selector: Mapping[str, Any] | None) -> Any:
    spec: dict[str, Any] = {"ruleNamespaceSelector": {}}
    if rule_selector is not None:
        spec["ruleSelector"] = dict(rule_selector)
    return Prometheus(metadata={"name": name, "namespace": namespace}, spec=spec)


def condition(resource: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for found in (resource.get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return found
    return None


def get_or_none(kube: Client, resource: type, name: str, namespace: str) -> Any | None:
    try:
        return kube.get(resource, name=name, namespace=namespace)
    except ApiError as exc:
        if exc.status.code == 404:
            return None
        raise


def delete_namespace_objects(kube: Client, namespace: str) -> None:
    """The test API server has no garbage collector and no namespace deletion: clean by hand."""
    for resource in (SLOAlert, PrometheusRule, Prometheus):
        for found in kube.list(resource, namespace=namespace):
            kube.delete(resource, found.metadata.name, namespace=namespace)


@contextmanager
def operator_process(
    kubeconfig: Path,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    *,
    metrics_port: int | None = None,
    health_port: int | None = None,
) -> Iterator[RunningServer]:
    """Run `sloalert-operator` on loopback until the block ends; ready once it serves metrics."""
    metrics_port, health_port = metrics_port or free_port(), health_port or free_port()
    command = [Path(sys.executable).with_name("sloalert-operator")]
    settings = {
        "KUBECONFIG": str(kubeconfig),
        "SLOALERT_LISTEN_HOST": LOOPBACK,
        "SLOALERT_METRICS_PORT": str(metrics_port),
        "SLOALERT_HEALTH_PORT": str(health_port),
        "SLOALERT_RULE_LABELS": ",".join(f"{k}={v}" for k, v in RULE_LABELS.items()),
        "SLOALERT_LOG_FORMAT": "text",
        **(env or {}),
    }
    base_url = f"http://{LOOPBACK}:{metrics_port}"
    with run_server(
        command, ready_url=f"{base_url}/metrics", base_url=base_url, log_path=log_path, env=settings
    ) as server:
        yield server
