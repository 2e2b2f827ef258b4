"""After `make up`: every Deployment available, the restricted Pod Security level enforced by the
cluster itself, the operator held to its chart's RBAC, the second install an upgrade in place."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from fdc_make import budgets
from testkit.kube import KubectlError
from testkit.tools import require_tool

from .cluster import NAMESPACE, RELEASE, Cluster, condition

COMPONENTS = ("fastdining-api", "airestaurant", "discord-relay", "sloalert-operator")


def test_every_deployment_is_available(cluster: Cluster) -> None:
    deployments = cluster.items("deployment")
    names = {item["metadata"]["name"] for item in deployments}
    for component in COMPONENTS:
        assert cluster.deployment(component).removeprefix("deployment/") in names
    unavailable = {
        item["metadata"]["name"]: item.get("status", {})
        for item in deployments
        if condition(item, "Available") != "True"
        or item["status"].get("availableReplicas", 0) < item["spec"].get("replicas", 1)
    }
    assert not unavailable, f"Deployments not available: {json.dumps(unavailable, indent=1)}"


def test_the_namespace_enforces_the_restricted_level(cluster: Cluster) -> None:
    labels = json.loads(cluster.kubectl("get", "namespace", NAMESPACE, "-o", "json"))["metadata"][
        "labels"
    ]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # Changing the enforced policy makes the API server check every running pod against it and
    # warn about each one that breaks it (an unchanged label is not checked): pin the version the
    # namespace enforces as `latest` to the cluster's own, on a dry run. No warning: every pod
    # here passes `restricted`.
    server = json.loads(cluster.kubectl("version", "-o", "json"))["serverVersion"]
    version = f"v{server['major']}.{server['minor'].rstrip('+')}"
    relabel = subprocess.run(
        [
            str(require_tool("kubectl")),
            "label",
            "--dry-run=server",
            "--overwrite",
            "namespace",
            NAMESPACE,
            f"pod-security.kubernetes.io/enforce-version={version}",
        ],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "violate" not in relabel.stderr, relabel.stderr
    # And a pod that breaks it is refused at admission.
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "pss-probe"},
        "spec": {
            "containers": [
                {"name": "probe", "image": "busybox", "securityContext": {"privileged": True}}
            ]
        },
    }
    with pytest.raises(KubectlError, match="violates PodSecurity"):
        cluster.kubectl(
            "-n", NAMESPACE, "create", "--dry-run=server", "-f", "-", stdin=json.dumps(privileged)
        )


def _can_i(cluster: Cluster, account: str, *request: str) -> bool:
    answer = subprocess.run(
        [str(require_tool("kubectl")), "auth", "can-i", f"--as={account}", *request],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return answer.stdout.strip() == "yes"


def test_the_operator_runs_with_only_its_charts_rbac(cluster: Cluster) -> None:
    deployment = cluster.get(cluster.deployment("sloalert-operator"))
    account_name = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    account = f"system:serviceaccount:{NAMESPACE}:{account_name}"
    bindings = json.loads(
        cluster.kubectl("get", "clusterrolebindings,rolebindings", "-A", "-o", "json")
    )["items"]
    granting = [
        binding
        for binding in bindings
        if any(
            subject.get("kind") == "ServiceAccount"
            and subject.get("name") == account_name
            and subject.get("namespace", binding["metadata"].get("namespace")) == NAMESPACE
            for subject in binding.get("subjects") or []
        )
    ]
    assert granting, f"nothing grants {account} anything"
    for binding in granting:
        labels = binding["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/instance") == RELEASE, binding["metadata"]
        assert labels.get("app.kubernetes.io/name") == "sloalert-operator", binding["metadata"]
    # What it needs, and nothing like what it does not.
    assert _can_i(cluster, account, "patch", "sloalerts.slo.fastdining.dev", "-A")
    assert _can_i(cluster, account, "create", "prometheusrules.monitoring.coreos.com", "-A")
    for request in (
        ("create", "pods"),
        ("get", "secrets"),
        ("delete", "namespaces"),
        ("*", "*"),
        ("create", "clusterrolebindings"),
    ):
        assert not _can_i(cluster, account, *request, "-A"), request


def test_a_second_install_upgraded_the_release_in_place(cluster: Cluster, standin: object) -> None:
    """The stand-in fixture ran the install a second time (with the webhook)."""
    history = json.loads(
        subprocess.run(
            [
                str(require_tool(os.environ.get("HELM", "helm"))),
                "history",
                RELEASE,
                "--namespace",
                NAMESPACE,
                "--output",
                "json",
            ],
            env=cluster.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    assert len(history) >= 2, history
    assert history[-1]["status"] == "deployed", history[-1]


def test_helm_test_passes_in_the_restricted_namespace(cluster: Cluster) -> None:
    """No test pod the restricted level refuses (the umbrella turns kube-prometheus-stack's
    Grafana test pod off: `grafana.testFramework.enabled: false` in its values)."""
    helm = os.environ.get("HELM", "helm")
    answer = subprocess.run(
        [str(require_tool(helm)), "test", RELEASE, "--namespace", NAMESPACE, "--logs"],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=budgets.ROLLOUT,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout[-3000:] + answer.stderr[-3000:]
    assert "violates PodSecurity" not in answer.stderr


def test_the_components_run_as_uid_10001_on_a_read_only_root(cluster: Cluster) -> None:
    probe = (
        "import os\n"
        "try:\n"
        "    open('/app/written-by-e2e', 'w')\n"
        "    writable = True\n"
        "except OSError:\n"
        "    writable = False\n"
        "print(os.getuid(), writable)\n"
    )
    for component in COMPONENTS:
        answer = cluster.kubectl(
            "-n", NAMESPACE, "exec", cluster.deployment(component), "--", "python", "-c", probe
        )
        assert answer.split() == ["10001", "False"], f"{component}: uid, root writable = {answer}"
