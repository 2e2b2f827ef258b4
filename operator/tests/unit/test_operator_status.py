"""Status conditions: reasons, messages a person can act on, stable transition times. No server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sloalert.errors import Problem
from sloalert.operator.selection import PrometheusView, check
from sloalert.operator.status import (
    AppliedRule,
    Condition,
    condition_status,
    outdated,
    ready_applied,
    ready_apply_failed,
    ready_invalid,
    selected,
    turned_false,
    with_conditions,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
RULE = AppliedRule(name="checkout", recording=8, alerting=2)


def test_status_groups_is_cleared_once_the_slo_is_no_longer_grouped() -> None:
    grouped = AppliedRule(name="checkout", recording=8, alerting=2, grouped=True)
    counted = with_conditions({}, [ready_applied(grouped)], now=T0, rule=grouped, groups=3)
    assert counted["groups"] == 3
    kept = with_conditions(counted, [ready_applied(grouped)], now=T1, generation=2, rule=grouped)
    assert kept["groups"] == 3
    # groupBy removed: the merge patch must say null, or the old count stays on the object.
    cleared = with_conditions(kept, [ready_applied(RULE)], now=T1, generation=3, rule=RULE)
    assert "groups" in cleared and cleared["groups"] is None
    assert outdated({**cleared, "groups": 3}, cleared)
    # Once gone from the live object, null is what it is: nothing more to write.
    assert not outdated({k: v for k, v in cleared.items() if k != "groups"}, cleared)


def test_a_successful_apply_records_generation_rule_and_counts() -> None:
    status = with_conditions({}, [ready_applied(RULE)], now=T0, generation=3, rule=RULE)
    assert status["observedGeneration"] == 3
    assert status["prometheusRule"] == "checkout"
    assert status["rules"] == {"recording": 8, "alerting": 2}
    (ready,) = status["conditions"]
    assert ready == {
        "type": "Ready",
        "status": "True",
        "reason": "RulesApplied",
        "message": "PrometheusRule checkout holds 8 recording and 2 alerting rules",
        "lastTransitionTime": "2026-01-02T03:04:05Z",
        "observedGeneration": 3,
    }


def test_an_invalid_spec_keeps_the_previous_rule_and_lists_every_problem() -> None:
    good = with_conditions({}, [ready_applied(RULE)], now=T0, generation=1, rule=RULE)
    problems = [
        Problem("spec.objective", "must be below 100"),
        Problem("spec.window", "must be a duration"),
    ]
    bad = with_conditions(
        good, [ready_invalid(problems, has_previous_rules=True)], now=T1, generation=2
    )
    assert bad["prometheusRule"] == "checkout"
    assert bad["rules"] == {"recording": 8, "alerting": 2}
    assert bad["observedGeneration"] == 2
    (ready,) = bad["conditions"]
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert ready["message"] == (
        "spec.objective: must be below 100; spec.window: must be a duration "
        "(the previous rules stay in place until it is fixed)"
    )
    assert ready["lastTransitionTime"] == "2026-01-02T03:09:05Z"


def test_an_invalid_first_spec_says_no_rules_were_written() -> None:
    condition = ready_invalid([Problem("spec.objective", "too high")], has_previous_rules=False)
    assert condition.message.endswith("(no rules were written)")


def test_the_transition_time_stays_while_the_status_stays() -> None:
    first = with_conditions({}, [ready_applied(RULE)], now=T0, generation=1, rule=RULE)
    again = with_conditions(first, [ready_applied(RULE)], now=T1, generation=2, rule=RULE)
    assert again["conditions"][0]["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    assert again["conditions"][0]["observedGeneration"] == 2


def test_an_apply_failure_names_the_rule_and_the_error() -> None:
    condition = ready_apply_failed("apps/checkout", "503 Service Unavailable")
    assert (condition.status, condition.reason) == ("False", "ApplyFailed")
    assert "apps/checkout" in condition.message
    assert "503 Service Unavailable" in condition.message


def test_other_conditions_are_kept_in_place_and_new_ones_appended() -> None:
    previous = {
        "conditions": [
            {"type": "Foreign", "status": "True", "reason": "X", "message": "kept"},
            {"type": "Ready", "status": "False", "reason": "InvalidSpec", "message": "m"},
        ]
    }
    no_prometheus = selected(
        check(namespace="a", labels={}, namespace_labels=None, prometheuses=[])
    )
    status = with_conditions(previous, [ready_applied(RULE), no_prometheus], now=T0)
    assert [c["type"] for c in status["conditions"]] == ["Foreign", "Ready", "Selected"]
    assert status["conditions"][0] == previous["conditions"][0]
    assert condition_status(status, "Ready") == "True"
    assert condition_status(status, "Missing") is None


def test_selected_names_the_prometheus_that_loads_the_rule() -> None:
    selection = check(
        namespace="apps",
        labels={"release": "kps"},
        namespace_labels=None,
        prometheuses=[PrometheusView("monitoring", "k8s", {"matchLabels": {"release": "kps"}}, {})],
    )
    condition = selected(selection)
    assert (condition.status, condition.reason) == ("True", "SelectedByPrometheus")
    assert condition.message == "loaded by prometheus monitoring/k8s"


def test_not_selected_says_why_for_each_prometheus() -> None:
    selection = check(
        namespace="apps",
        labels={},
        namespace_labels=None,
        prometheuses=[
            PrometheusView("monitoring", "k8s", {"matchLabels": {"release": "kps"}}, {}),
            PrometheusView("monitoring", "other", None, {}),
        ],
    )
    condition = selected(selection)
    assert (condition.status, condition.reason) == ("False", "NotSelected")
    assert condition.message == (
        "no Prometheus loads this rule. Prometheus monitoring/k8s selects rules with "
        "release=kps; this rule has no release label. Prometheus monitoring/other has no "
        "ruleSelector, so it loads no PrometheusRules."
    )


def test_a_rule_loaded_only_by_a_thanos_ruler_is_selected_and_a_refusal_names_it() -> None:
    ruler = PrometheusView(
        "monitoring", "ruler", {"matchLabels": {"release": "kps"}}, {}, "ThanosRuler"
    )
    loaded = selected(
        check(
            namespace="apps", labels={"release": "kps"}, namespace_labels=None, prometheuses=[ruler]
        )
    )
    assert (loaded.status, loaded.reason, loaded.message) == (
        "True",
        "SelectedByPrometheus",
        "loaded by thanosruler monitoring/ruler",
    )
    refused = selected(
        check(namespace="apps", labels={}, namespace_labels=None, prometheuses=[ruler])
    )
    assert (refused.status, refused.message) == (
        "False",
        "no Prometheus loads this rule. ThanosRuler monitoring/ruler selects rules with "
        "release=kps; this rule has no release label.",
    )


def test_undecided_selection_is_unknown_not_false() -> None:
    selection = check(
        namespace="apps",
        labels={},
        namespace_labels=None,
        prometheuses=[PrometheusView("monitoring", "k8s", {}, {"matchLabels": {"a": "b"}})],
    )
    condition = selected(selection)
    assert (condition.status, condition.reason) == ("Unknown", "SelectionUnknown")
    assert "could not be read" in condition.message


def test_no_prometheus_at_all_is_unknown_and_says_so() -> None:
    condition = selected(check(namespace="a", labels={}, namespace_labels=None, prometheuses=[]))
    assert (condition.status, condition.reason) == ("Unknown", "NoPrometheus")
    assert "no monitoring.coreos.com/v1 Prometheus objects exist" in condition.message


MISMATCH = PrometheusView("apps", "k8s", {"matchLabels": {"release": "kps"}}, {})
LOADS_ALL = PrometheusView("apps", "all", {}, {})


def test_watching_some_namespaces_none_loading_it_is_unknown_not_false() -> None:
    selection = check(namespace="apps", labels={}, namespace_labels=None, prometheuses=[MISMATCH])
    condition = selected(selection, ("apps", "web"))
    assert (condition.status, condition.reason) == ("Unknown", "PrometheusesNotWatched")
    assert condition.message == (
        "no Prometheus the operator can see loads this rule: it watches namespaces apps, web "
        "only, and a Prometheus elsewhere may load it. Prometheus apps/k8s selects rules with "
        "release=kps; this rule has no release label."
    )


def test_watching_some_namespaces_with_no_prometheus_there_is_unknown_too() -> None:
    nothing = check(namespace="apps", labels={}, namespace_labels=None, prometheuses=[])
    condition = selected(nothing, ("apps",))
    assert (condition.status, condition.reason) == ("Unknown", "PrometheusesNotWatched")
    assert condition.message.endswith("a Prometheus elsewhere may load it.")


def test_watching_some_namespaces_a_prometheus_there_loading_it_is_selected() -> None:
    selection = check(namespace="apps", labels={}, namespace_labels=None, prometheuses=[LOADS_ALL])
    assert selected(selection, ("apps",)).status == "True"


def not_selected(message: str = "no Prometheus loads this rule.") -> Condition:
    return Condition("Selected", "False", "NotSelected", message)


def test_only_a_change_to_false_is_a_transition_to_warn_of() -> None:
    was_true = {"conditions": [{"type": "Selected", "status": "True"}]}
    was_false = {"conditions": [{"type": "Selected", "status": "False"}]}
    assert turned_false(was_true, not_selected())
    assert turned_false({}, not_selected())
    assert not turned_false(was_false, not_selected("another reason"))
    assert not turned_false(was_true, Condition("Selected", "Unknown", "NoPrometheus", "m"))


def test_a_live_status_is_outdated_when_a_field_written_differs_or_is_gone() -> None:
    wanted = {"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]}
    assert not outdated(wanted, wanted)
    assert not outdated({**wanted, "foreign": "kept"}, wanted)
    assert outdated({}, wanted)
    assert outdated({**wanted, "observedGeneration": 1}, wanted)
