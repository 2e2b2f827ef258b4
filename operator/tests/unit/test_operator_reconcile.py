"""The reconciler's pure parts and kopf's verdicts: the desired rule, drift, retries. No server."""

from __future__ import annotations

import copy
from typing import Any

import kopf
import pytest
from sloalert import conventions
from sloalert.errors import InvalidSLOAlert
from sloalert.operator.bridge import settle
from sloalert.operator.reconcile import (
    Outcome,
    Result,
    desired_rule,
    drift,
    is_deleting,
    other_owner,
)
from sloalert.operator.status import Condition
from sloalert.validation import plain

OWNER: dict[str, Any] = {
    "apiVersion": conventions.API_VERSION,
    "kind": conventions.KIND,
    "metadata": {"name": "checkout", "namespace": "apps", "uid": "uid-1", "generation": 4},
    "spec": {
        "service": "checkout",
        "indicator": {
            "ratio": {
                "errors": 'http_requests_total{job="checkout",status="5xx"}',
                "total": 'http_requests_total{job="checkout"}',
            }
        },
        "objective": 99.5,
    },
}
EXTRA = {"release": "kube-prometheus-stack"}


def desired() -> dict[str, Any]:
    return desired_rule(OWNER, EXTRA).rule


def test_the_desired_rule_is_owned_by_its_sloalert_as_controller() -> None:
    rule = desired()
    assert rule["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "slo.fastdining.dev/v1alpha1",
            "kind": "SLOAlert",
            "name": "checkout",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert (rule["metadata"]["namespace"], rule["metadata"]["name"]) == ("apps", "checkout")


def test_the_desired_rule_carries_the_managed_by_and_extra_labels() -> None:
    labels = desired()["metadata"]["labels"]
    assert labels[conventions.MANAGED_BY_LABEL] == conventions.MANAGED_BY
    assert labels["release"] == "kube-prometheus-stack"


def test_the_counts_match_the_rules_written() -> None:
    result = desired_rule(OWNER, EXTRA)
    rules = [rule for group in result.rule["spec"]["groups"] for rule in group["rules"]]
    assert result.applied.recording == sum("record" in rule for rule in rules)
    assert result.applied.alerting == sum("alert" in rule for rule in rules)


def test_a_spec_the_generator_refuses_raises_with_its_problems() -> None:
    owner = copy.deepcopy(OWNER)
    owner["spec"]["indicator"]["ratio"]["errors"] = "sum(rate(x[5m]"
    with pytest.raises(InvalidSLOAlert) as raised:
        desired_rule(owner, EXTRA)
    assert [problem.field for problem in raised.value.problems] == ["spec.indicator.ratio.errors"]


def live_copy() -> dict[str, Any]:
    """The rule as the API server returns it: ours plus fields the server and others add."""
    live = copy.deepcopy(desired())
    live["metadata"].update(uid="rule-uid", resourceVersion="7", managedFields=[{}])
    live["metadata"]["labels"]["added-by-someone"] = "yes"
    return live


def test_a_rule_as_applied_has_no_drift_even_with_foreign_labels() -> None:
    assert drift(live_copy(), desired()) is None


def test_a_deleted_rule_is_drift() -> None:
    assert drift(None, desired()) == "it was deleted"


def test_an_edited_spec_is_drift() -> None:
    live = live_copy()
    live["spec"]["groups"][0]["rules"][0]["expr"] = "vector(0)"
    assert drift(live, desired()) == "its spec was edited"


def test_a_changed_or_removed_label_is_drift_and_named() -> None:
    live = live_copy()
    live["metadata"]["labels"]["release"] = "other"
    del live["metadata"]["labels"][conventions.MANAGED_BY_LABEL]
    assert drift(live, desired()) == (
        f"its labels ({conventions.MANAGED_BY_LABEL}, release) were changed"
    )


def test_only_a_rule_its_sloalert_controls_is_its_to_write() -> None:
    uid = desired()["metadata"]["ownerReferences"][0]["uid"]
    removed, foreign, helm = live_copy(), live_copy(), live_copy()
    del removed["metadata"]["ownerReferences"]
    foreign["metadata"]["ownerReferences"][0].update(kind="Deployment", name="x", uid="other")
    helm["metadata"] = {
        "name": "checkout",
        "labels": {conventions.MANAGED_BY_LABEL: "Helm"},
        "annotations": {"meta.helm.sh/release-name": "platform"},
    }
    assert other_owner(live_copy(), uid) is None
    assert other_owner(foreign, uid) == "is controlled by Deployment x (uid other)"
    assert other_owner(removed, uid) == (
        "is not controlled by this SLOAlert (it has no controller ownerReference to it)"
    )
    assert other_owner(helm, uid) == (
        f"is not managed by sloalert ({conventions.MANAGED_BY_LABEL}=Helm, Helm release platform)"
    )
    assert other_owner({"metadata": {"name": "checkout"}}, uid) == "is not managed by sloalert"


def test_an_sloalert_being_deleted_is_recognised() -> None:
    deleting = copy.deepcopy(OWNER)
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert is_deleting(deleting)
    assert not is_deleting(OWNER)


# Unchanged: posting the Event of a change needs a running kopf (the cluster tests check it).
def result(outcome: Outcome, *, changed: bool = False) -> Result:
    return Result(outcome, Condition("Ready", "False", "X", "what went wrong"), changed=changed)


def test_an_invalid_spec_stops_retries_with_the_reason() -> None:
    with pytest.raises(kopf.PermanentError, match="what went wrong"):
        settle(OWNER, result(Outcome.INVALID), retry=0)


def test_an_api_failure_retries_sooner_first_then_backs_off() -> None:
    delays = []
    for retry in (0, 1, 2, 50):
        with pytest.raises(kopf.TemporaryError) as raised:
            settle(OWNER, result(Outcome.FAILED), retry=retry)
        delays.append(raised.value.delay)
    assert delays == [1, 2, 5, 60]


def test_an_applied_spec_ends_handling_without_error() -> None:
    settle(OWNER, result(Outcome.APPLIED), retry=0)


def test_kopf_bodies_become_plain_nested_data() -> None:
    body = kopf.Body(copy.deepcopy(OWNER))
    copied = plain(body)
    assert copied == OWNER
    assert type(copied["metadata"]) is dict
    copied["spec"]["objective"] = 1.0
    assert body["spec"]["objective"] == 99.5
