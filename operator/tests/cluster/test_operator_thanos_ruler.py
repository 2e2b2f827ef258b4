"""Selected for a rule that a ThanosRuler loads, on a real API server: prometheus-operator's
ThanosRuler selects PrometheusRules with the same two selectors as a Prometheus, and the
operator reports it the same way, following its changes. Locally the ThanosRuler CRD is the
stand-in in tests/apiserver/crds; on a cluster (KUBECONFIG), the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lightkube import Client
from lightkube.generic_resource import create_namespaced_resource
from lightkube.types import PatchType
from sloalert import conventions
from testkit import apiserver
from testkit.kube import wait_for
from testkit.sloalert_cluster import RULE_LABELS, SLOAlert, condition, sloalert

from cluster.conftest import InProcessOperator

pytestmark = pytest.mark.apiserver

ThanosRuler = create_namespaced_resource(*conventions.THANOS_RULERS)
NAME = "checkout"
RULER = "ruler"


@pytest.fixture
def ruler(kube: Client, namespace: str) -> Iterator[str]:
    """A ThanosRuler in the test's namespace selecting another release's rules. Deleted
    afterwards: the local server would keep it, and other tests' messages would name it."""
    kube.create(
        ThanosRuler(
            metadata={"name": RULER, "namespace": namespace},
            # No ruleNamespaceSelector: its own namespace only, as prometheus-operator reads it.
            spec={"ruleSelector": {"matchLabels": {"release": "other-stack"}}},
        )
    )
    yield f"{namespace}/{RULER}"
    kube.delete(ThanosRuler, RULER, namespace=namespace)


def selected(kube: Client, namespace: str) -> Any | None:
    return condition(kube.get(SLOAlert, NAME, namespace=namespace), "Selected")


def test_a_thanos_ruler_is_named_in_selected_and_followed_when_it_changes(
    cluster: apiserver.Cluster,
    kube: Client,
    namespace: str,
    ruler: str,
    operator: InProcessOperator,
) -> None:
    kube.create(sloalert(NAME, namespace))
    if cluster.local:  # a real cluster's own Prometheus may load the rule meanwhile
        refused = wait_for(
            lambda: (found := selected(kube, namespace)) and found["status"] == "False" and found,
            what="Selected=False",
        )
        assert (
            f"ThanosRuler {ruler} selects rules with release=other-stack; this rule has "
            "release=kube-prometheus-stack."
        ) in refused["message"]

    kube.patch(
        ThanosRuler,
        RULER,
        {"spec": {"ruleSelector": {"matchLabels": RULE_LABELS}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    chosen = wait_for(
        lambda: (
            (found := selected(kube, namespace))
            and found["status"] == "True"
            and f"thanosruler {ruler}" in found["message"]
            and found
        ),
        what=f"Selected=True naming thanosruler {ruler}",
    )
    assert chosen["reason"] == "SelectedByPrometheus"
    if cluster.local:
        assert chosen["message"] == f"loaded by thanosruler {ruler}"
