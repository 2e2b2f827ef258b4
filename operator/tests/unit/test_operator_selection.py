"""Which Prometheus loads a rule, with prometheus-operator's selector semantics. No server."""

from __future__ import annotations

import pytest
from sloalert.operator.selection import (
    LabelSelector,
    PrometheusView,
    check,
    needs_namespace_labels,
)

KPS = {"matchLabels": {"release": "kube-prometheus-stack"}}


def prometheus(
    rule_selector: dict | None = None,
    namespace_selector: dict | None = None,
    *,
    namespace: str = "monitoring",
    name: str = "k8s",
) -> PrometheusView:
    return PrometheusView(namespace, name, rule_selector, namespace_selector)


def test_a_rule_with_the_selected_labels_in_any_namespace_is_loaded() -> None:
    selection = check(
        namespace="apps",
        labels={"release": "kube-prometheus-stack", "app.kubernetes.io/managed-by": "sloalert"},
        namespace_labels=None,
        prometheuses=[prometheus(KPS, {})],
    )
    assert selection.selected_by == ("monitoring/k8s",)


def test_a_missing_label_is_named_with_the_selector_that_wants_it() -> None:
    selection = check(
        namespace="apps", labels={}, namespace_labels=None, prometheuses=[prometheus(KPS, {})]
    )
    (verdict,) = selection.refusals
    assert verdict.reason == (
        "prometheus monitoring/k8s selects rules with release=kube-prometheus-stack; "
        "this rule has no release label"
    )


def test_a_wrong_label_value_is_named_with_the_value_it_has() -> None:
    selection = check(
        namespace="apps",
        labels={"release": "other"},
        namespace_labels=None,
        prometheuses=[prometheus(KPS, {})],
    )
    assert "this rule has release=other" in selection.refusals[0].reason


def test_a_null_rule_selector_loads_no_rules_at_all() -> None:
    selection = check(
        namespace="monitoring",
        labels={"release": "x"},
        namespace_labels=None,
        prometheuses=[prometheus(None, {})],
    )
    assert selection.selected_by == ()
    assert "has no ruleSelector, so it loads no PrometheusRules" in selection.refusals[0].reason


def test_an_empty_rule_selector_loads_every_rule() -> None:
    selection = check(
        namespace="monitoring", labels={}, namespace_labels=None, prometheuses=[prometheus({})]
    )
    assert selection.selected_by == ("monitoring/k8s",)


def test_a_null_namespace_selector_means_the_prometheus_own_namespace_only() -> None:
    at_home = check(
        namespace="monitoring", labels={}, namespace_labels=None, prometheuses=[prometheus({})]
    )
    elsewhere = check(
        namespace="apps", labels={}, namespace_labels=None, prometheuses=[prometheus({})]
    )
    assert at_home.selected_by == ("monitoring/k8s",)
    assert elsewhere.selected_by == ()
    assert "its own namespace monitoring only" in elsewhere.refusals[0].reason
    assert "this rule is in namespace apps" in elsewhere.refusals[0].reason


def test_a_namespace_selector_with_unknown_namespace_labels_is_undecided_not_guessed() -> None:
    selection = check(
        namespace="apps",
        labels={},
        namespace_labels=None,
        prometheuses=[prometheus({}, {"matchLabels": {"monitoring": "on"}})],
    )
    assert selection.selected_by == ()
    assert selection.refusals == ()
    (verdict,) = selection.undecided
    assert "monitoring=on" in verdict.reason
    assert "labels of namespace apps could not be read" in verdict.reason


def test_a_namespace_without_the_wanted_label_is_named() -> None:
    selection = check(
        namespace="apps",
        labels={},
        namespace_labels={"team": "web"},
        prometheuses=[prometheus({}, {"matchLabels": {"monitoring": "on"}})],
    )
    assert selection.refusals[0].reason.endswith("namespace apps has no monitoring label")


def test_a_namespace_with_the_wanted_label_is_in_scope() -> None:
    selection = check(
        namespace="apps",
        labels={},
        namespace_labels={"monitoring": "on"},
        prometheuses=[prometheus({}, {"matchLabels": {"monitoring": "on"}})],
    )
    assert selection.selected_by == ("monitoring/k8s",)


@pytest.mark.parametrize(
    ("expression", "labels", "matches"),
    [
        ({"key": "tier", "operator": "In", "values": ["a", "b"]}, {"tier": "b"}, True),
        ({"key": "tier", "operator": "In", "values": ["a", "b"]}, {"tier": "c"}, False),
        ({"key": "tier", "operator": "In", "values": ["a"]}, {}, False),
        ({"key": "tier", "operator": "NotIn", "values": ["a"]}, {"tier": "b"}, True),
        ({"key": "tier", "operator": "NotIn", "values": ["a"]}, {}, True),
        ({"key": "tier", "operator": "NotIn", "values": ["a"]}, {"tier": "a"}, False),
        ({"key": "tier", "operator": "Exists"}, {"tier": ""}, True),
        ({"key": "tier", "operator": "Exists"}, {}, False),
        ({"key": "tier", "operator": "DoesNotExist"}, {}, True),
        ({"key": "tier", "operator": "DoesNotExist"}, {"tier": "a"}, False),
    ],
)
def test_match_expressions_follow_label_selector_semantics(
    expression: dict, labels: dict, matches: bool
) -> None:
    selector = LabelSelector.parse({"matchExpressions": [expression]})
    assert (selector.mismatches(labels) == []) is matches


def test_selectors_are_described_in_kubectl_syntax() -> None:
    selector = LabelSelector.parse(
        {
            "matchLabels": {"release": "kps"},
            "matchExpressions": [
                {"key": "tier", "operator": "NotIn", "values": ["x", "y"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.describe() == "release=kps,tier notin (x,y),team,!legacy"


def test_every_failing_requirement_is_listed() -> None:
    selection = check(
        namespace="apps",
        labels={"team": "api"},
        namespace_labels=None,
        prometheuses=[prometheus({"matchLabels": {"release": "kps", "team": "web"}}, {})],
    )
    assert selection.refusals[0].reason.endswith("this rule has no release label and has team=api")


def test_a_selector_prometheus_operator_would_refuse_is_reported_not_raised() -> None:
    bad = {"matchExpressions": [{"key": "tier", "operator": "Gt", "values": ["1"]}]}
    selection = check(
        namespace="apps", labels={}, namespace_labels=None, prometheuses=[prometheus(bad, {})]
    )
    assert selection.selected_by == ()
    assert "has a selector it cannot use" in selection.refusals[0].reason


def test_several_prometheuses_each_get_a_verdict_in_a_stable_order() -> None:
    selection = check(
        namespace="apps",
        labels={"release": "kube-prometheus-stack"},
        namespace_labels=None,
        prometheuses=[
            prometheus({"matchLabels": {"release": "other"}}, {}, name="b"),
            prometheus(KPS, {}, name="a"),
        ],
    )
    assert [v.prometheus for v in selection.verdicts] == ["monitoring/a", "monitoring/b"]
    assert selection.selected_by == ("monitoring/a",)


def test_namespace_labels_are_needed_only_for_namespace_selectors_with_requirements() -> None:
    assert not needs_namespace_labels([prometheus(KPS, None), prometheus(KPS, {})])
    assert needs_namespace_labels([prometheus(KPS, {"matchLabels": {"a": "b"}})])


def test_a_prometheus_object_is_read_from_its_manifest() -> None:
    view = PrometheusView.from_object(
        {
            "metadata": {"namespace": "monitoring", "name": "k8s"},
            "spec": {"ruleSelector": KPS, "ruleNamespaceSelector": {}},
        }
    )
    assert view == PrometheusView("monitoring", "k8s", KPS, {})
    bare = PrometheusView.from_object({"metadata": {"namespace": "m", "name": "p"}, "spec": {}})
    assert bare.rule_selector is None
    assert bare.rule_namespace_selector is None


def ruler(rule_selector: dict | None, namespace_selector: dict | None = None) -> PrometheusView:
    return PrometheusView("monitoring", "ruler", rule_selector, namespace_selector, "ThanosRuler")


def test_a_thanos_ruler_is_judged_like_a_prometheus() -> None:
    """prometheus-operator's ThanosRuler has the same ruleSelector and ruleNamespaceSelector."""
    labels = {"release": "kube-prometheus-stack"}
    loads = check(
        namespace="apps", labels=labels, namespace_labels=None, prometheuses=[ruler(KPS, {})]
    )
    assert loads.selected_by == ("monitoring/ruler",)
    assert loads.loaders() == "thanosruler monitoring/ruler"
    refusals = [
        check(namespace="apps", labels=labels, namespace_labels=None, prometheuses=[view])
        .refusals[0]
        .reason
        for view in (ruler(None), ruler(KPS), ruler({"matchLabels": {"release": "other"}}, {}))
    ]
    assert refusals == [
        "ThanosRuler monitoring/ruler has no ruleSelector, so it loads no PrometheusRules",
        "ThanosRuler monitoring/ruler loads rules from its own namespace monitoring only (its "
        "ruleNamespaceSelector is not set); this rule is in namespace apps",
        "ThanosRuler monitoring/ruler selects rules with release=other; this rule has "
        "release=kube-prometheus-stack",
    ]


def test_prometheuses_come_before_rulers_and_both_are_named() -> None:
    selection = check(
        namespace="apps",
        labels={"release": "kube-prometheus-stack"},
        namespace_labels=None,
        prometheuses=[ruler(KPS, {}), prometheus(KPS, {}, name="b"), prometheus(KPS, {}, name="a")],
    )
    assert (
        selection.loaders()
        == "prometheus monitoring/a, monitoring/b and thanosruler monitoring/ruler"
    )


def test_a_thanos_ruler_object_is_read_from_its_manifest() -> None:
    body = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ThanosRuler",
        "metadata": {"namespace": "monitoring", "name": "ruler"},
        "spec": {"ruleSelector": KPS},
    }
    assert PrometheusView.from_object(body) == ruler(KPS)
