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
