"""Issue 18's test: our four workloads, started from the rendered umbrella under their pods' own
conditions (the image's venv, UID 10001 with no passwd entry, HOME=/, a read-only root, only the
rendered environment, Secrets as files), each pass their readiness probe, and the operator started
this way turns an SLOAlert into a PrometheusRule on the test API server.

On the main.py before issue 18 (kopf asking getpass.getuser() for its identity) the operator's pod
exits at start and this test fails with PodFailed naming it and the KeyError in its log.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fdc_podrunner import PodRunner
from lightkube import Client
from lightkube.core.exceptions import ApiError
from testkit.helm import Rendered
from testkit.kube import wait_for
from testkit.sloalert_cluster import (
    PrometheusRule,
    client,
    delete_namespace_objects,
    operator_cluster,
    sloalert,
)

OURS = ["fdc-airestaurant", "fdc-discord-relay", "fdc-fastdining-api", "fdc-sloalert-operator"]


@pytest.fixture(scope="module")
def running(
    pod_tools: None, umbrella: Rendered, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PodRunner, Path]]:
    workdir = tmp_path_factory.mktemp("umbrella-pods")
    with (
        operator_cluster(workdir / "apiserver") as cluster,
        PodRunner(
            umbrella.documents, workdir=workdir / "pods", kubeconfig=cluster.kubeconfig
        ) as runner,
    ):
        yield runner, cluster.kubeconfig


def _deployment(umbrella: Rendered, name: str) -> dict:
    [found] = [d for d in umbrella.of_kind("Deployment") if d["metadata"]["name"] == name]
    return found


@pytest.mark.integration
@pytest.mark.apiserver
@pytest.mark.timeout(600)
@pytest.mark.parametrize("deployment", OURS)
def test_each_workload_passes_its_rendered_readiness_probe(
    running: tuple[PodRunner, Path], umbrella: Rendered, deployment: str
) -> None:
    runner, _ = running
    runner.check()
    [container] = _deployment(umbrella, deployment)["spec"]["template"]["spec"]["containers"]
    probe = container["readinessProbe"]["httpGet"]
    host, port = runner.address(deployment, probe["port"])
    with urllib.request.urlopen(f"http://{host}:{port}{probe['path']}", timeout=10) as answer:
        assert answer.status == 200
    assert runner.restarts(deployment, container["name"]) == 0


@pytest.mark.integration
@pytest.mark.apiserver
@pytest.mark.timeout(600)
def test_the_operator_pod_turns_an_sloalert_into_a_prometheus_rule(
    running: tuple[PodRunner, Path], umbrella: Rendered
) -> None:
    runner, kubeconfig = running
    kube = client(kubeconfig)
    namespace = "pods"
    [container] = _deployment(umbrella, "fdc-sloalert-operator")["spec"]["template"]["spec"][
        "containers"
    ]
    env = {item["name"]: item.get("value") for item in container["env"]}
    try:
        kube.create(sloalert("checkout", namespace))
        rule = wait_for(
            lambda: _rule(kube, namespace), what="the operator pod's PrometheusRule", timeout=60
        )
        # The labels the chart renders for the operator, read back from the rule it wrote.
        for key, value in json.loads(env["SLOALERT_RULE_LABELS"]).items():
            assert rule.metadata.labels[key] == value
        assert rule.spec["groups"], "the rule has rule groups"
        runner.check()
    finally:
        delete_namespace_objects(kube, namespace)


def _rule(kube: Client, namespace: str) -> Any:
    try:
        return kube.get(PrometheusRule, name="checkout", namespace=namespace)
    except ApiError as exc:
        if exc.status.code in (404, 429):
            return None
        raise


@pytest.mark.integration
def test_the_rendered_operator_names_its_kopf_identity_after_the_pod(umbrella: Rendered) -> None:
    """The chart's side of the fix: POD_ID from the downward API's metadata.name."""
    [container] = _deployment(umbrella, "fdc-sloalert-operator")["spec"]["template"]["spec"][
        "containers"
    ]
    [pod_id] = [item for item in container["env"] if item["name"] == "POD_ID"]
    assert pod_id["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
