"""The CRDs these tests install on a KUBECONFIG cluster: the SLOAlert CRD always, the minimal
prometheus-operator stand-ins only where the cluster lacks the real ones (kube-prometheus-stack
installs those, and forcing a stand-in over them would prune what its resources hold)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from testkit import apiserver
from testkit.kube import kubectl
from testkit.sloalert_cluster import MONITORING_STAND_INS

pytestmark = pytest.mark.apiserver

MARK = "testkit.example.com/stand-in"
LACKING_GROUP = "stand-in-tests.example.com"


def lacking_crd() -> dict[str, Any]:
    """A CRD no cluster has: the stand-in that must be installed."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{LACKING_GROUP}"},
        "spec": {
            "group": LACKING_GROUP,
            "scope": "Namespaced",
            "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def test_a_kubeconfig_cluster_gets_only_the_stand_ins_it_lacks(
    cluster: apiserver.Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The cluster has every stand-in by now; a marked copy would show if it were applied over it.
    present = yaml.safe_load(MONITORING_STAND_INS[0].read_text())
    present["metadata"]["annotations"] = {MARK: "applied"}
    present_path, lacking_path = tmp_path / "present.yaml", tmp_path / "lacking.yaml"
    present_path.write_text(yaml.safe_dump(present))
    lacking_path.write_text(yaml.safe_dump(lacking_crd()))
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))

    try:
        external = apiserver.cluster_from_env([], stand_ins=[present_path, lacking_path])

        assert external is not None
        live = json.loads(
            kubectl(cluster.kubeconfig, "get", "crd", present["metadata"]["name"], "-o", "json")
        )
        assert MARK not in (live["metadata"].get("annotations") or {})
        assert f"{LACKING_GROUP}/v1" in kubectl(cluster.kubeconfig, "api-versions").split()
    finally:
        kubectl(cluster.kubeconfig, "delete", "--ignore-not-found", "-f", str(lacking_path))
