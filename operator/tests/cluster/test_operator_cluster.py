"""The operator against a real API server: every assertion reads the server's state.

The local test server has no garbage collector, so ownerReferences are checked as data; on a
cluster with one (KUBECONFIG), deleting an SLOAlert is also checked to delete its rule. Such a
cluster may run its own Prometheus (kube-prometheus-stack): there, Selected is checked for what
it says about this test's Prometheus, and exactly only on the local server.
"""

from __future__ import annotations

import ast
import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType
from sloalert import conventions
from testkit import apiserver
from testkit.kube import wait_for
from testkit.scrape import scrape, total
from testkit.sloalert_cluster import (
    RULE_LABELS,
    Prometheus,
    PrometheusRule,
    SLOAlert,
    condition,
    get_or_none,
    prometheus,
    sloalert,
)

from cluster.conftest import InProcessOperator

pytestmark = pytest.mark.apiserver

T = TypeVar("T")

NAME = "checkout"
DRIFT_REPAIR_SECONDS = 2.0
"""The issue's bound on putting back a hand-edited or deleted rule."""


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


def timed(action: Callable[[], object], probe: Callable[[], T | None], *, what: str) -> float:
    """Seconds from just before `action` until `probe` holds. The wait itself is longer than
    any bound a test asserts, so a slow machine fails on the bound, naming the time taken."""
    started = time.monotonic()
    action()
    wait_for(probe, what=what)
    return time.monotonic() - started


def metric(operator: InProcessOperator, sample: str, **labels: str) -> float:
    return total(scrape(operator.metrics_url), sample, labels)


def selected_of(kube: Client, namespace: str) -> Any | None:
    return condition(kube.get(SLOAlert, NAME, namespace=namespace), "Selected")


REFUSED_EVENT = re.compile(
    r"^Failed to post an event\..*Event: type='(?P<type>\w+)', reason='(?P<reason>\w+)', "
    r"message=(?P<message>.*)\.$",
    re.DOTALL,
)


def events(
    kind: str,
    cluster: apiserver.Cluster,
    kube: Client,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> list[tuple[str, str]]:
    """(reason, message) of each Event of type `kind` the operator posted about the SLOAlert,
    sorted.

    The local server has no Events API and refuses every post: there, kopf's warning about each
    refusal names the Event it asked for (that of this test's operator, about this test's
    SLOAlert: the only one there is).
    """
    if cluster.local:
        refused = (REFUSED_EVENT.match(record.getMessage()) for record in caplog.records)
        posted = [
            (found["type"], found["reason"], ast.literal_eval(found["message"]))
            for found in refused
            if found
        ]
    else:
        about = {"involvedObject.name": NAME, "involvedObject.kind": conventions.KIND}
        posted = [
            (event.type, event.reason, event.message)
            for event in kube.list(Event, namespace=namespace, fields=about)
        ]
    return sorted((reason, message) for type_, reason, message in posted if type_ == kind)


def loaded_by(selected: Any, prometheus_ref: str) -> bool:
    """Whether a Selected condition names `prometheus_ref` among those loading the rule."""
    loaders = selected["message"].removeprefix("loaded by prometheus ").split(", ")
    return selected["status"] == "True" and prometheus_ref in loaders


def test_create_writes_an_owned_labelled_rule_and_reports_ready(
    cluster: apiserver.Cluster, kube: Client, namespace: str, operator: InProcessOperator
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
    chosen = condition(ready, "Selected")
    assert chosen is not None
    if cluster.local:  # elsewhere, the cluster's own Prometheus objects decide
        assert chosen["reason"] == "NoPrometheus"


def test_the_operator_serves_liveness_and_its_own_metrics(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(NAME, namespace))
    wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")

    assert httpx.get(operator.health_url, timeout=5).status_code == 200
    # Every series exists from the start at 0: only values show that the work was counted.
    assert metric(operator, "sloalert_reconciles_total", outcome="applied") >= 1
    assert metric(operator, "sloalert_reconcile_duration_seconds_count") >= 1
    assert metric(operator, "sloalert_sloalerts", ready="True") >= 1


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
    cluster: apiserver.Cluster,
    kube: Client,
    namespace: str,
    operator: InProcessOperator,
    caplog: pytest.LogCaptureFixture,
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
    # The reason is also where `kubectl describe` shows it, once.
    warned = wait_for(
        lambda: events("Warning", cluster, kube, namespace, caplog), what="a Warning Event"
    )
    assert warned == [("InvalidSpec", ready["message"])]


def test_a_hand_edited_rule_is_put_back(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(NAME, namespace))
    wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")
    good = rule_of(kube, namespace)
    stray = {"name": "by-hand", "rules": [{"record": "x:y:z", "expr": "vector(1)"}]}
    edited_groups = [{**good["spec"]["groups"][0], "rules": []}, stray]

    def edit() -> None:
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

    seconds = timed(edit, restored, what="the hand edit to be reverted")
    assert seconds <= DRIFT_REPAIR_SECONDS, f"reverted after {seconds:.2f} s"


def test_a_deleted_rule_is_recreated(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    created = kube.create(sloalert(NAME, namespace))
    wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")
    first = rule_of(kube, namespace)

    def recreated() -> Any | None:
        rule = rule_of(kube, namespace)
        return rule if rule is not None and rule.metadata.uid != first.metadata.uid else None

    seconds = timed(
        lambda: kube.delete(PrometheusRule, NAME, namespace=namespace),
        recreated,
        what="the rule to be recreated",
    )
    assert seconds <= DRIFT_REPAIR_SECONDS, f"recreated after {seconds:.2f} s"
    again = rule_of(kube, namespace)
    assert again["spec"] == first["spec"]
    assert again.metadata.ownerReferences[0].uid == created.metadata.uid


def test_ready_and_a_repair_are_posted_as_normal_events(
    cluster: apiserver.Cluster,
    kube: Client,
    namespace: str,
    operator: InProcessOperator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kube.create(sloalert(NAME, namespace))
    ready = wait_for(lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True")
    kube.delete(PrometheusRule, NAME, namespace=namespace)

    expected = sorted(
        [
            ("DriftRepaired", f"PrometheusRule {NAME}: it was deleted; put back"),
            ("RulesApplied", condition(ready, "Ready")["message"]),
        ]
    )
    wait_for(
        lambda: len(events("Normal", cluster, kube, namespace, caplog)) >= len(expected),
        what="the Normal Events",
    )
    assert events("Normal", cluster, kube, namespace, caplog) == expected


def test_selected_names_the_selector_mismatch_then_the_prometheus_once_fixed(
    cluster: apiserver.Cluster, kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    ours = f"{namespace}/k8s"
    kube.create(prometheus("k8s", namespace, {"matchLabels": {"release": "other-stack"}}))
    kube.create(sloalert(NAME, namespace))

    if cluster.local:
        refused = wait_for(
            lambda: with_condition(kube, namespace, "Selected", "False"), what="Selected=False"
        )
        message = condition(refused, "Selected")["message"]
        assert f"Prometheus {ours} selects rules with release=other-stack" in message
        assert "this rule has release=kube-prometheus-stack" in message
    else:  # the cluster's own Prometheus may load the rule: only ours must not
        seen = wait_for(lambda: selected_of(kube, namespace), what="a Selected condition")
        assert not loaded_by(seen, ours), seen

    kube.patch(
        Prometheus,
        "k8s",
        {"spec": {"ruleSelector": {"matchLabels": RULE_LABELS}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )

    chosen = wait_for(
        lambda: (found := selected_of(kube, namespace)) and loaded_by(found, ours) and found,
        what=f"Selected=True naming prometheus {ours}",
    )
    assert chosen["reason"] == "SelectedByPrometheus"
    if cluster.local:
        assert chosen["message"] == f"loaded by prometheus {ours}"
    assert condition(kube.get(SLOAlert, NAME, namespace=namespace), "Ready")["status"] == "True"


def test_deleting_an_sloalert_deletes_its_rule(
    cluster: apiserver.Cluster, kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    if cluster.local:
        pytest.skip(
            "the local test API server has no garbage collector, which deletes the rule through "
            "its ownerReference; run with KUBECONFIG naming a real cluster (kind)"
        )
    kube.create(sloalert(NAME, namespace))
    wait_for(lambda: rule_of(kube, namespace), what="the PrometheusRule")

    kube.delete(SLOAlert, NAME, namespace=namespace)

    wait_for(
        lambda: rule_of(kube, namespace) is None,
        what="the garbage collector to delete the rule",
        timeout=60,
    )


def test_no_prometheus_loading_the_rule_is_warned_once_per_transition(
    cluster: apiserver.Cluster,
    kube: Client,
    namespace: str,
    operator: InProcessOperator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not cluster.local:
        pytest.skip(
            "the cluster's own Prometheus objects may load every rule the operator writes, "
            "so Selected may never turn False here"
        )

    def warnings() -> int:
        said = f"SLOAlert {namespace}/{NAME}: no Prometheus loads this rule"
        return sum(
            r.levelno == logging.WARNING and r.getMessage().startswith(said) for r in caplog.records
        )

    def select(release: str) -> None:
        kube.patch(
            Prometheus,
            "k8s",
            {"spec": {"ruleSelector": {"matchLabels": {"release": release}}}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )

    def saying(text: str) -> Any | None:
        found = selected_of(kube, namespace)
        return found if found and text in found["message"] else None

    kube.create(prometheus("k8s", namespace, {"matchLabels": {"release": "other-stack"}}))
    kube.create(sloalert(NAME, namespace))
    wait_for(lambda: warnings() == 1, what="a warning that no Prometheus loads the rule")

    select("yet-another-stack")  # still False, for another reason: no second warning
    wait_for(lambda: saying("release=yet-another-stack"), what="Selected to name the new selector")
    select(RULE_LABELS["release"])
    wait_for(lambda: saying("loaded by prometheus"), what="Selected=True")
    assert warnings() == 1

    select("other-stack")  # False again: a new transition, a new warning
    wait_for(lambda: warnings() == 2, what="a second warning")


def test_a_cleared_status_is_written_again(
    kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(NAME, namespace))
    written = wait_for(
        lambda: with_condition(kube, namespace, "Ready", "True"), what="Ready=True"
    ).status

    kube.patch(
        SLOAlert.Status, NAME, {"status": None}, namespace=namespace, patch_type=PatchType.MERGE
    )
    assert not kube.get(SLOAlert, NAME, namespace=namespace).status
    # An annotation is no change of spec: the reconcile wants exactly the status written before.
    touch = {"metadata": {"annotations": {"example.com/touched": "yes"}}}
    kube.patch(SLOAlert, NAME, touch, namespace=namespace, patch_type=PatchType.MERGE)

    restored = wait_for(
        lambda: kube.get(SLOAlert, NAME, namespace=namespace).status, what="the status back"
    )
    assert restored == written
