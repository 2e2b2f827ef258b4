"""A restarted operator (a real process, killed without warning) converges; nothing twice."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.types import PatchType
from testkit import apiserver
from testkit.kube import wait_for
from testkit.sloalert_cluster import (
    PrometheusRule,
    SLOAlert,
    condition,
    operator_process,
    sloalert,
)

pytestmark = pytest.mark.apiserver

FIRST, SECOND = 10, 20


def names(count: int, offset: int = 0) -> list[str]:
    return [f"slo-{index:03d}" for index in range(offset, offset + count)]


def all_ready(kube: Client, namespace: str, expected: int) -> dict[str, object] | None:
    """Every SLOAlert's Ready=True for its current generation, keyed by name, once all are."""
    ready = {
        slo.metadata.name: slo
        for slo in kube.list(SLOAlert, namespace=namespace)
        if (c := condition(slo, "Ready")) is not None
        and c["status"] == "True"
        and slo.status.get("observedGeneration") == slo.metadata.generation
    }
    return ready if len(ready) == expected else None


def rules_by_name(kube: Client, namespace: str) -> dict[str, object]:
    return {rule.metadata.name: rule for rule in kube.list(PrometheusRule, namespace=namespace)}


def test_a_restarted_operator_converges_without_duplicates(
    cluster: apiserver.Cluster, kube: Client, namespace: str, tmp_path: Path
) -> None:
    with operator_process(cluster.kubeconfig, tmp_path / "first.log") as first:
        for name in names(FIRST):
            kube.create(sloalert(name, namespace))
        wait_for(lambda: all_ready(kube, namespace, FIRST), what=f"{FIRST} ready SLOAlerts")
        settled = rules_by_name(kube, namespace)
        # More work arrives, and the operator dies in the middle of it.
        for name in names(SECOND, offset=FIRST):
            kube.create(sloalert(name, namespace))
        wait_for(lambda: len(rules_by_name(kube, namespace)) > FIRST, what="the next rules")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)

    # While it is down: a spec changes and a rule is deleted.
    changed, deleted = names(FIRST)[0], names(FIRST)[1]
    patch = {"spec": {"objective": 99.9}}
    kube.patch(SLOAlert, changed, patch, namespace=namespace, patch_type=PatchType.MERGE)
    kube.delete(PrometheusRule, deleted, namespace=namespace)

    with operator_process(cluster.kubeconfig, tmp_path / "second.log") as second:
        total = FIRST + SECOND
        wait_for(lambda: all_ready(kube, namespace, total), what=f"{total} ready SLOAlerts")
        rules = wait_for(
            lambda: (found := rules_by_name(kube, namespace)) and len(found) == total and found,
            what=f"{total} rules",
        )
        assert second.process.poll() is None, second.log()

    slos = {slo.metadata.name: slo for slo in kube.list(SLOAlert, namespace=namespace)}
    assert sorted(rules) == sorted(slos) == names(total)
    for name, rule in rules.items():
        (owner,) = rule.metadata.ownerReferences
        assert owner.uid == slos[name].metadata.uid
    assert any("/ 0.001" in r["expr"] for g in rules[changed]["spec"]["groups"] for r in g["rules"])
    assert rules[deleted].metadata.uid != settled[deleted].metadata.uid
    untouched = set(names(FIRST)) - {changed, deleted}
    for name in untouched:
        # The same object, never rewritten: the restart re-checked it and found nothing to do.
        assert rules[name].metadata.uid == settled[name].metadata.uid
        assert rules[name].metadata.resourceVersion == settled[name].metadata.resourceVersion
