"""load(): a resource dict in, a checked SLOAlert out, or every problem with its field."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest
from sloalert.errors import InvalidSLOAlert, Problem
from sloalert.models import SLOAlert, to_resource
from sloalert.validation import load
from testkit import sloalert_testdata as corpus


def _resource(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "slo.fastdining.dev/v1alpha1",
        "kind": "SLOAlert",
        "metadata": {"name": "fastapi-availability", "namespace": "apps"},
        "spec": {
            "service": "fastapi",
            "indicator": {"preset": {"name": "fastapi-availability", "job": "fastapi"}},
            "objective": 99.9,
        },
    }
    body["spec"].update(spec)
    return body


def _problems(body: Any) -> list[Problem]:
    with pytest.raises(InvalidSLOAlert) as refused:
        load(body)
    return refused.value.problems


def test_a_minimal_resource_gets_the_documented_defaults() -> None:
    slo = load(_resource())
    assert isinstance(slo, SLOAlert)
    assert slo.spec.window == "30d"
    assert slo.spec.alerting.mode == "burnRate"
    assert slo.spec.alerting.enabled_tiers() == ["page", "ticket"]
    assert slo.spec.labels == {}


def test_a_body_from_kopf_loads_ignoring_status_and_server_metadata() -> None:
    [example] = [e for e in corpus.valid() if e.id == "as-kopf-hands-it-over"]
    slo = load(example.body)
    assert slo.metadata.name == "as-kopf-hands-it-over"
    assert slo.metadata.namespace == "apps"
    assert "status" not in to_resource(slo)


def test_mapping_views_load_like_dicts_as_kopf_passes_them() -> None:
    body = _resource()
    frozen = MappingProxyType(
        {**body, "spec": MappingProxyType({**body["spec"], "labels": MappingProxyType({"a": "b"})})}
    )
    assert load(frozen) == load({**body, "spec": {**body["spec"], "labels": {"a": "b"}}})


def test_loading_does_not_change_the_resource_it_was_given() -> None:
    body = _resource()
    before = copy.deepcopy(body)
    load(body)
    assert body == before


def test_every_problem_is_reported_at_once_each_with_its_field() -> None:
    body = _resource(objective=100, window="a month", labels={"team-name": "web"})
    fields = {problem.field for problem in _problems(body)}
    assert fields == {"spec.objective", "spec.window", "spec.labels"}


def test_the_error_reads_field_colon_message_joined_by_semicolons() -> None:
    error = InvalidSLOAlert([Problem("spec.a", "is wrong"), Problem("spec.b", "is missing")])
    assert str(error) == "spec.a: is wrong; spec.b: is missing"
    assert isinstance(error, ValueError)


def test_an_error_without_problems_is_a_bug() -> None:
    with pytest.raises(ValueError, match="at least one problem"):
        InvalidSLOAlert([])


def test_a_missing_field_is_required_and_an_unknown_one_lists_the_allowed() -> None:
    body = _resource()
    del body["spec"]["service"]
    body["spec"]["alerting"] = {"pages": {}}
    problems = {p.field: p.message for p in _problems(body)}
    assert problems["spec.service"] == "required"
    assert problems["spec.alerting.pages"].startswith("unknown field 'pages'; allowed: mode, name")
    assert "page" in problems["spec.alerting.pages"]


def test_types_are_strict_as_in_the_crd_and_the_message_shows_the_value() -> None:
    problems = _problems(_resource(objective="99.9"))
    assert problems == [Problem("spec.objective", "Input should be a valid number, not '99.9'")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "resource"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, "apiVersion"),
        ({**_resource(), "kind": "SLOAlrt"}, "kind"),
        ({**_resource(), "metadata": {"name": "Not_A_Name"}}, "metadata.name"),
        ({k: v for k, v in _resource().items() if k != "spec"}, "spec"),
    ],
    ids=["not a mapping", "another API", "a misspelt kind", "a bad name", "no spec"],
)
def test_a_resource_that_is_not_an_sloalert_is_refused_at_the_right_place(
    body: Any, field: str
) -> None:
    assert field in {problem.field for problem in _problems(body)}


def test_pydantic_wording_never_leaks_through_value_errors() -> None:
    body = _resource(indicator={})
    [problem] = _problems(body)
    assert problem == Problem(
        "spec.indicator", "give exactly one of preset, ratio, latency or expression (got none)"
    )


@pytest.mark.parametrize(
    ("errors", "total", "same"),
    [
        ('m{a="1",b="2"}', 'm{b="2",a="1"}', True),
        ('{__name__="m",a="1"}', 'm{a="1"}', True),
        ('m{a="1",b="2"}', 'm{a="1"}', False),
        ('m{a="1"}', 'n{a="1"}', False),
    ],
    ids=["matchers reordered", "name as a matcher", "one matcher more", "another metric"],
)
def test_a_ratio_whose_errors_select_the_same_series_as_total_is_refused(
    errors: str, total: str, same: bool
) -> None:
    body = _resource(indicator={"ratio": {"errors": errors, "total": total}})
    if same:
        [problem] = _problems(body)
        assert problem.field == "spec.indicator.ratio.errors"
        assert "same series as total" in problem.message
    else:
        assert load(body).spec.indicator.ratio is not None


def test_every_problem_of_a_file_is_reported_in_one_run() -> None:
    # Shape (objective, unknown field), semantics (a threshold between buckets) and a template,
    # together: nothing waits for the others to be fixed first.
    body = _resource(
        objective=100,
        windw="30d",
        indicator={
            "preset": {"name": "fastapi-latency", "job": "fastapi", "thresholdSeconds": 0.3}
        },
        annotations={"summary": "{{ $labels.job "},
    )
    fields = {problem.field for problem in _problems(body)}
    assert fields == {
        "spec.objective",
        "spec.windw",
        "spec.indicator.preset.thresholdSeconds",
        "spec.annotations.summary",
    }


@pytest.mark.parametrize("name", ["Watchdog", "InfoInhibitor", "KubePodCrashLooping"])
def test_kube_prometheus_stack_alert_names_are_refused(name: str) -> None:
    [problem] = _problems(_resource(alerting={"name": name}))
    assert problem.field == "spec.alerting.name"
    assert f"{name} is one of kube-prometheus-stack's own alerts" in problem.message
    body = _resource()
    body["metadata"]["name"] = "watchdog"  # the default alert name, Watchdog
    [problem] = _problems(body)
    assert problem.field == "metadata.name"


@pytest.mark.parametrize("key", ["namespace", "alertname", "sloalert_tier"])
def test_namespace_and_sloalerts_labels_are_reserved(key: str) -> None:
    [problem] = _problems(_resource(labels={key: "payments"}))
    assert problem.field == "spec.labels"
    assert f"{key!r} is reserved" in problem.message


def test_no_data_for_must_be_shorter_than_the_lookback() -> None:
    [problem] = _problems(_resource(alerting={"noData": {"for": "30d"}}))
    assert problem.field == "spec.alerting.noData.for"


def test_a_badly_shaped_alerting_still_has_its_name_and_the_indicator_checked() -> None:
    # minRate -1 makes spec.alerting fail its shape; the alert name (kube-prometheus-stack's
    # Watchdog) and groupBy's le are problems of their own, reported in the same run.
    indicator = {
        "latency": {"histogram": "http_request_duration_seconds_bucket", "thresholdSeconds": 0.5},
        "groupBy": ["le"],
    }
    found = _problems(_resource(indicator=indicator, alerting={"minRate": -1, "name": "Watchdog"}))
    assert {problem.field for problem in found} == {
        "spec.alerting.minRate",
        "spec.alerting.name",
        "spec.indicator.groupBy",
    }, found


def test_grouping_by_namespace_is_refused_saying_why() -> None:
    indicator = {
        "ratio": {"errors": 'a_total{code="500"}', "total": "a_total"},
        "groupBy": ["handler", "namespace"],
    }
    [problem] = _problems(_resource(indicator=indicator))
    assert problem.field == "spec.indicator.groupBy"
    assert problem.message.startswith("namespace cannot group: every alert's namespace is its")
