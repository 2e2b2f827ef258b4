"""Discovery on the test API server: what kubectl and kopf need before they touch a resource."""

from __future__ import annotations

import base64
import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sloalert.conventions import PROMETHEUS_RULES as RULES
from testkit.apiserver import Cluster, install_crds
from testkit.kube import kubectl, unique_name, wait_for

pytestmark = pytest.mark.apiserver


def get_raw(cluster: Cluster, path: str) -> Any:
    return json.loads(kubectl(cluster.kubeconfig, "get", "--raw", path))


def legacy_groups(cluster: Cluster) -> dict[str, Any]:
    """The plain `/apis` group list (not the aggregated document), as kopf reads it."""
    return {group["name"]: group for group in get_raw(cluster, "/apis")["groups"]}


def test_kubectl_lists_the_custom_resources_by_kind(cluster: Cluster) -> None:
    table = kubectl(cluster.kubeconfig, "api-resources", "--no-headers")
    # Columns: NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
    listed = {(row.split()[-3], row.split()[-1]) for row in table.splitlines()}
    assert {
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("monitoring.coreos.com/v1", "Prometheus"),
        ("apiserver-tests.example.com/v1", "Widget"),
    } <= listed


def test_core_discovery_advertises_namespaces_and_events_for_kopf(cluster: Cluster) -> None:
    assert get_raw(cluster, "/api")["versions"] == ["v1"]
    resources = {r["name"]: r for r in get_raw(cluster, "/api/v1")["resources"]}
    assert resources["namespaces"]["namespaced"] is False
    assert resources["events"]["namespaced"] is True


def test_legacy_group_list_follows_crds_as_they_come_and_go(
    cluster: Cluster, tmp_path: Path
) -> None:
    group = f"{unique_name('discovery')}.example.com"
    crd = tmp_path / "gadgets.yaml"
    crd.write_text(yaml.safe_dump(two_version_crd(group)))
    install_crds(cluster, [crd])

    listed = legacy_groups(cluster)[group]
    assert sorted(v["version"] for v in listed["versions"]) == ["v1", "v1alpha1"]
    assert listed["preferredVersion"]["version"] == "v1"

    kubectl(cluster.kubeconfig, "delete", "-f", str(crd))
    wait_for(lambda: group not in legacy_groups(cluster), what=f"{group} leaves /apis")
    assert "monitoring.coreos.com" in legacy_groups(cluster)


def test_openapi_v2_describes_the_custom_resources(cluster: Cluster) -> None:
    definitions = get_raw(cluster, "/openapi/v2")["definitions"]
    rule = definitions["com.coreos.monitoring.v1.PrometheusRule"]
    assert "groups" in rule["properties"]["spec"]["properties"]


def test_server_reports_a_kubernetes_version_clients_can_parse(cluster: Cluster) -> None:
    server = json.loads(kubectl(cluster.kubeconfig, "version", "-o", "json"))["serverVersion"]
    assert server["major"] == "1"
    assert server["gitVersion"].startswith(f"v1.{server['minor']}.")


def test_a_client_without_the_admin_certificate_is_refused(
    cluster: Cluster, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.crt"
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    ca.write_bytes(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))
    anonymous = httpx.get(
        f"{cluster.server}/apis/{RULES.api_version}/{RULES.plural}",
        verify=ssl.create_default_context(cafile=str(ca)),
    )
    assert anonymous.status_code == httpx.codes.FORBIDDEN


def two_version_crd(group: str) -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"},
            "versions": [
                {"name": "v1alpha1", "served": True, "storage": False, "schema": schema},
                {"name": "v1", "served": True, "storage": True, "schema": schema},
            ],
        },
    }
