"""The operator never takes over a PrometheusRule it does not control (issue 24, finding 3).

A PrometheusRule of the SLOAlert's name that exists already is written only when this SLOAlert
controls it. Anyone else's stays exactly as it is, and the SLOAlert says who holds it, until
that rule is gone: then the SLOAlert's own is written.
"""

from __future__ import annotations

from typing import Any

import pytest
from lightkube import Client
from lightkube.types import PatchType
from sloalert import conventions
from testkit.kube import wait_for
from testkit.sloalert_cluster import PrometheusRule, SLOAlert, condition, get_or_none, sloalert

from cluster.conftest import InProcessOperator

pytestmark = pytest.mark.apiserver

NAME = "platform-critical"
HELM_RULE_SPEC = {
    "groups": [
        {
            "name": "kubernetes-system-apiserver",
            "rules": [
                {
                    "alert": "KubeAPIDown",
                    "expr": 'absent(up{job="apiserver"} == 1)',
                    "for": "15m",
                    "labels": {"severity": "critical"},
                }
            ],
        }
    ]
}


def helm_rule(namespace: str, release: str = "platform") -> Any:
    """A rule as Helm installs it: its labels and annotations, no ownerReference."""
    return PrometheusRule(
        metadata={
            "name": NAME,
            "namespace": namespace,
            "labels": {conventions.MANAGED_BY_LABEL: "Helm", "release": release},
            "annotations": {
                "meta.helm.sh/release-name": release,
                "meta.helm.sh/release-namespace": namespace,
            },
        },
        spec=HELM_RULE_SPEC,
    )


def ready_saying(kube: Client, namespace: str, reason: str, text: str = "") -> Any | None:
    found = condition(kube.get(SLOAlert, NAME, namespace=namespace), "Ready")
    return found if found and found["reason"] == reason and text in found["message"] else None


def test_a_helm_rule_of_the_same_name_is_left_untouched_and_reported(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    theirs = kube.create(helm_rule(namespace))

    kube.create(sloalert(NAME, namespace))

    refused = wait_for(
        lambda: ready_saying(kube, namespace, conventions.REASON_RULE_OWNED_BY_OTHER),
        what="Ready=False, RuleOwnedByOther",
    )
    assert refused["status"] == "False"
    assert refused["message"] == (
        f"PrometheusRule {NAME} exists and is not managed by sloalert "
        f"({conventions.MANAGED_BY_LABEL}=Helm, Helm release platform): it was left untouched. "
        "Rename this SLOAlert, or remove that rule"
    )
    rule = kube.get(PrometheusRule, NAME, namespace=namespace)
    assert rule.metadata.resourceVersion == theirs.metadata.resourceVersion
    assert rule.metadata.labels == theirs.metadata.labels
    assert rule.metadata.annotations == theirs.metadata.annotations
    assert not rule.metadata.ownerReferences
    assert rule["spec"] == HELM_RULE_SPEC


def test_a_change_to_their_rule_is_no_drift_to_repair_and_their_deletion_frees_the_name(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(helm_rule(namespace))
    created = kube.create(sloalert(NAME, namespace))
    wait_for(
        lambda: ready_saying(kube, namespace, conventions.REASON_RULE_OWNED_BY_OTHER),
        what="Ready=False, RuleOwnedByOther",
    )

    # Helm upgrades its rule: a drift event for the operator, which says who holds the rule
    # now (a point in time at which the operator has seen the change) and writes nothing.
    upgrade = {
        "metadata": {"annotations": {"meta.helm.sh/release-name": "platform-v2"}},
        "spec": {"groups": [{**HELM_RULE_SPEC["groups"][0], "interval": "1m"}]},
    }
    kube.patch(PrometheusRule, NAME, upgrade, namespace=namespace, patch_type=PatchType.MERGE)
    wait_for(
        lambda: ready_saying(
            kube, namespace, conventions.REASON_RULE_OWNED_BY_OTHER, "Helm release platform-v2"
        ),
        what="RuleOwnedByOther naming the new release",
    )
    rule = kube.get(PrometheusRule, NAME, namespace=namespace)
    assert not rule.metadata.ownerReferences
    assert rule.metadata.labels[conventions.MANAGED_BY_LABEL] == "Helm"
    assert rule["spec"]["groups"][0]["rules"][0]["alert"] == "KubeAPIDown"

    kube.delete(PrometheusRule, NAME, namespace=namespace)

    wait_for(
        lambda: ready_saying(kube, namespace, conventions.REASON_RULES_APPLIED),
        what="Ready=True once the name is free",
    )
    ours = get_or_none(kube, PrometheusRule, NAME, namespace)
    (owner,) = ours.metadata.ownerReferences
    assert (owner.uid, owner.controller) == (created.metadata.uid, True)
    assert ours.metadata.labels[conventions.MANAGED_BY_LABEL] == conventions.MANAGED_BY


def test_a_rule_controlled_by_another_object_is_reported_by_that_owner(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    spec = {
        "groups": [{"name": "theirs", "rules": [{"record": "their:rule", "expr": "vector(1)"}]}]
    }
    holder = kube.create(
        PrometheusRule(metadata={"name": "holder", "namespace": namespace}, spec=spec)
    )
    controlled_by_holder = {
        "apiVersion": holder.apiVersion,
        "kind": holder.kind,
        "name": holder.metadata.name,
        "uid": holder.metadata.uid,
        "controller": True,
    }
    kube.create(
        PrometheusRule(
            metadata={
                "name": NAME,
                "namespace": namespace,
                "ownerReferences": [controlled_by_holder],
            },
            spec=spec,
        )
    )

    kube.create(sloalert(NAME, namespace))

    refused = wait_for(
        lambda: ready_saying(kube, namespace, conventions.REASON_RULE_OWNED_BY_OTHER),
        what="Ready=False, RuleOwnedByOther",
    )
    assert (
        f"is controlled by PrometheusRule holder (uid {holder.metadata.uid})"
        in (refused["message"])
    )
    rule = kube.get(PrometheusRule, NAME, namespace=namespace)
    assert [ref.uid for ref in rule.metadata.ownerReferences] == [holder.metadata.uid]
    assert rule["spec"] == spec
