"""The operator against a real API server: every assertion reads the server's state.

This server has no garbage collector, so ownerReferences are checked as data here; the kind
end-to-end test checks that deleting an SLOAlert really deletes its rule.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.types import PatchType
from sloalert import conventions
from testkit.sloalert_cluster import (
    RULE_LABELS,
    Prometheus,
    PrometheusRule,
    SLOAlert,
    condition,
    get_or_none,
    prometheus,
    sloalert,
    wait_for,
)

from cluster.conftest import InProcessOperator

pytestmark = pytest.mark.apiserver

NAME = "checkout"


def rule_of(kube: Client, namespace: str, name: str = NAME) -> Any | None:
    return get_or_none(kube, PrometheusRule, name, namespace)


def with_condition(
    kube: Client, namespace: str, kind: str, status: str, *, generation: int | None = None
) -> Any | None:
    """The SLOAlert once its `kind` condition has `status` (for `generation`, if given)."""
    found = kube.get(SLOAlert, NAME, namespace=namespace)
    seen = condition(found, kind)
    if seen is None or seen["status"] != status:
        return None
    if generation is not None and found.status.get("observedGeneration") != generation:
        return None
    return found


def exprs(rule: Any) -> list[str]:
    return [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]


def test_create_writes_an_owned_labelled_rule_and_reports_ready(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    created = kube.create(sloalert(NAME, namespace))

    rule = wait_for(lambda: rule_of(kube, namespace), what="the PrometheusRule")
    ready = wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")

    labels = rule.metadata.labels
    assert labels[conventions.MANAGED_BY_LABEL] == conventions.MANAGED_BY
    assert all(labels[key] == value for key, value in RULE_LABELS.items())
    (owner,) = rule.metadata.ownerReferences
    assert (owner.kind, owner.name, owner.uid) == (conventions.KIND, NAME, created.metadata.uid)
    assert owner.controller is True
    assert owner.blockOwnerDeletion is True
    rules = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    status = ready.status
    assert status["observedGeneration"] == created.metadata.generation
    assert status["prometheusRule"] == NAME
    assert status["rules"] == {
        "recording": sum("record" in r for r in rules),
        "alerting": sum("alert" in r for r in rules),
    }
    assert status["rules"]["alerting"] > 0
    assert condition(ready, "Ready")["reason"] == "RulesApplied"
    assert condition(ready, "Selected")["reason"] == "NoPrometheus"


def test_the_operator_serves_liveness_and_its_own_metrics(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(NAME, namespace))
    wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")

    assert httpx.get(operator.health_url, timeout=5).status_code == 200
    scrape = httpx.get(operator.metrics_url, timeout=5).text
    assert 'sloalert_reconciles_total{outcome="applied"}' in scrape
    assert "sloalert_reconcile_duration_seconds_count" in scrape
    ready_line = next(
        line for line in scrape.splitlines() if line.startswith('sloalert_sloalerts{ready="True"}')
    )
    assert float(ready_line.split()[-1]) >= 1


def test_an_update_rewrites_the_rule(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(NAME, namespace, objective=99.5))
    before = wait_for(lambda: rule_of(kube, namespace), what="the first rule")

    kube.patch(
        SLOAlert,
        NAME,
        {"spec": {"objective": 99.9}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )

    wait_for(
        lambda: with_condition(kube, namespace, "Ready", "True", generation=2),
        what="Ready=True for generation 2",
    )
    after = rule_of(kube, namespace)
    assert exprs(after) != exprs(before)
    # Burn rates are error ratios over the error budget: 0.5% before, 0.1% now.
    assert any("/ 0.005" in expr for expr in exprs(before))
    assert any("/ 0.001" in expr for expr in exprs(after))
    assert not any("/ 0.005" in expr for expr in exprs(after))


def test_a_spec_the_schema_refuses_never_reaches_the_operator(kube: Client, namespace: str) -> None:
    with pytest.raises(ApiError) as refused:
        kube.create(sloalert(NAME, namespace, objective=150))
    assert refused.value.status.code == 422
    assert "spec.objective" in refused.value.status.message
    assert get_or_none(kube, SLOAlert, NAME, namespace) is None


def test_a_spec_the_generator_refuses_says_why_and_keeps_the_old_rules(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(NAME, namespace))
    wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")
    good = rule_of(kube, namespace)

    broken = {"spec": {"indicator": {"ratio": {"errors": "sum(rate(errors_total[5m]"}}}}
    kube.patch(SLOAlert, NAME, broken, namespace=namespace, patch_type=PatchType.MERGE)

    refused = wait_for(
        lambda: with_condition(kube, namespace, "Ready", "False", generation=2),
        what="Ready=False for generation 2",
    )
    ready = condition(refused, "Ready")
    assert ready["reason"] == "InvalidSpec"
    assert "spec.indicator.ratio.errors" in ready["message"]
    assert "previous rules stay in place" in ready["message"]
    kept = rule_of(kube, namespace)
    assert kept["spec"] == good["spec"]
    assert kept.metadata.resourceVersion == good.metadata.resourceVersion


def test_a_hand_edited_rule_is_put_back(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(NAME, namespace))
    wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")
    good = rule_of(kube, namespace)
    stray = {"name": "by-hand", "rules": [{"record": "x:y:z", "expr": "vector(1)"}]}
    edited_groups = [{**good["spec"]["groups"][0], "rules": []}, stray]

    kube.patch(
        PrometheusRule,
        NAME,
        {"metadata": {"labels": {"release": "edited"}}, "spec": {"groups": edited_groups}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )

    def restored() -> Any | None:
        rule = rule_of(kube, namespace)
        same = rule["spec"] == good["spec"] and rule.metadata.labels == good.metadata.labels
        return rule if same else None

    wait_for(restored, what="the hand edit to be reverted")


def test_a_deleted_rule_is_recreated(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    created = kube.create(sloalert(NAME, namespace))
    wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")
    first = rule_of(kube, namespace)

    kube.delete(PrometheusRule, NAME, namespace=namespace)

    again = wait_for(
        lambda: (
            (rule := rule_of(kube, namespace)) and rule.metadata.uid != first.metadata.uid and rule
        ),
        what="the rule to be recreated",
    )
    assert again["spec"] == first["spec"]
    assert again.metadata.ownerReferences[0].uid == created.metadata.uid


def test_selected_names_the_selector_mismatch_then_the_prometheus_once_fixed(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(prometheus("k8s", namespace, {"matchLabels": {"release": "other-stack"}}))
    kube.create(sloalert(NAME, namespace))

    refused = wait_for(
        lambda: with_condition(kube, namespace, "Selected", "False"), what="Selected=False"
    )
    message = condition(refused, "Selected")["message"]
    assert f"Prometheus {namespace}/k8s selects rules with release=other-stack" in message
    assert "this rule has release=kube-prometheus-stack" in message

    kube.patch(
        Prometheus,
        "k8s",
        {"spec": {"ruleSelector": {"matchLabels": RULE_LABELS}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )

    chosen = wait_for(
        lambda: with_condition(kube, namespace, "Selected", "True"), what="Selected=True"
    )
    selected = condition(chosen, "Selected")
    assert selected["reason"] == "SelectedByPrometheus"
    assert selected["message"] == f"loaded by prometheus {namespace}/k8s"
    assert condition(chosen, "Ready")["status"] == "True"
