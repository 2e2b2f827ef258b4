"""The CRD and the Python models accept and refuse the same resources, field for field.

The CRD's structural schema is checked offline with a JSON-Schema validator (strict about
unknown fields, as kubectl apply is); its CEL rules run only in a real API server, so examples
that only CEL refuses are marked `cel` in the corpus and must be refused by sloalert, accepted
by the structural schema, and covered by a CEL rule in the CRD.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel
from sloalert import conventions, models
from sloalert.errors import InvalidSLOAlert
from sloalert.validation import load
from testkit import crd_schema
from testkit import sloalert_testdata as corpus

CRD = crd_schema.load_crd(corpus.CRD)
SCHEMA = crd_schema.version_schema(CRD, conventions.VERSION)
SPEC = SCHEMA["properties"]["spec"]
VALID = corpus.valid()
INVALID = corpus.invalid()


@pytest.mark.parametrize("example", VALID, ids=lambda e: e.id)
def test_a_valid_example_passes_both_the_models_and_the_crd_schema(
    example: corpus.Example,
) -> None:
    load(example.body)
    assert crd_schema.errors(CRD, conventions.VERSION, example.body) == []


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.id)
def test_an_invalid_example_is_refused_by_the_models_naming_its_field(
    example: corpus.Example,
) -> None:
    with pytest.raises(InvalidSLOAlert) as refused:
        load(example.body)
    assert any(
        problem.field == example.field and example.says in problem.message
        for problem in refused.value.problems
    ), refused.value.problems


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.id)
def test_the_crd_schema_refuses_exactly_the_examples_marked_schema_or_unknown_field(
    example: corpus.Example,
) -> None:
    assert example.refused_by in corpus.REFUSERS
    schema_errors = crd_schema.errors(CRD, conventions.VERSION, example.body)
    if example.refused_by in {"schema", "unknown-field"}:
        assert schema_errors, "the structural schema accepted it"
        assert any(error.startswith(example.field) for error in schema_errors), schema_errors
    else:
        assert schema_errors == []


@pytest.mark.parametrize(
    "example", [e for e in INVALID if e.refused_by == "cel"], ids=lambda e: e.id
)
def test_a_cel_rule_guards_the_field_of_every_example_only_cel_refuses(
    example: corpus.Example,
) -> None:
    assert _cel_rules_for(example.field), f"no x-kubernetes-validations cover {example.field}"


def test_the_cross_field_rules_are_cel_rules_in_the_crd() -> None:
    indicator_rules = " ".join(r["rule"] for r in SPEC["properties"]["indicator"][_CEL])
    for kind in ("preset", "ratio", "latency", "expression"):
        assert f"has(self.{kind})" in indicator_rules
    assert "== 1" in indicator_rules
    alerting_rules = [r["rule"] for r in SPEC["properties"]["alerting"][_CEL]]
    assert any(
        "'threshold'" in rule and "has(self.above) != has(self.below)" in rule
        for rule in alerting_rules
    )


def test_the_crd_fields_are_the_models_fields_with_the_same_enums_and_defaults() -> None:
    _compare(SPEC, models.SLOAlertSpec, "spec")


def test_the_crd_states_the_models_patterns_bounds_and_lengths() -> None:
    schema = models.SLOAlertSpec.model_json_schema(by_alias=True)
    crd = dict(_stated(SPEC, {}, "spec"))
    model = dict(_stated(schema, schema["$defs"], "spec"))
    both = crd.keys() & model.keys()
    assert {key: (crd[key], model[key]) for key in both if crd[key] != model[key]} == {}
    assert crd.keys() ^ model.keys() == STATED_BY_THE_CRD_ONLY
    # The walk reaches top-level fields, nested objects and the values of maps.
    assert {
        ("spec.service", "pattern"),
        ("spec.indicator.preset.quantile", "exclusiveMaximum"),
        ("spec.alerting.page.labels", "maxProperties"),
        ("spec.alerting.noData.annotations.*", "maxLength"),
    } <= both


def test_an_objective_of_100_is_refused_by_a_cel_rule_giving_the_models_reason() -> None:
    objective = SPEC["properties"]["objective"]
    assert (objective["maximum"], objective["exclusiveMaximum"]) == (100, True)
    [rule] = objective[_CEL]
    assert rule["rule"] == "self < 100.0"
    assert rule["message"] == models.OBJECTIVE_LEAVES_NO_BUDGET
    [example] = [e for e in INVALID if e.id == "objective-100"]
    with pytest.raises(InvalidSLOAlert) as refused:
        load(example.body)
    assert [p.message for p in refused.value.problems] == [models.OBJECTIVE_LEAVES_NO_BUDGET]


def test_every_field_has_a_description_for_kubectl_explain() -> None:
    missing = [path for path, node in _properties(SCHEMA, "") if not node.get("description")]
    assert missing == [".metadata"]  # the API server documents metadata itself


def test_the_crd_names_what_conventions_name() -> None:
    names = CRD["spec"]["names"]
    assert CRD["metadata"]["name"] == conventions.CRD_NAME
    assert CRD["spec"]["group"] == conventions.GROUP
    assert (names["kind"], names["plural"], names["singular"]) == (
        conventions.KIND,
        conventions.PLURAL,
        conventions.SINGULAR,
    )
    assert tuple(names["shortNames"]) == conventions.SHORT_NAMES
    [version] = CRD["spec"]["versions"]
    assert version["name"] == conventions.VERSION
    assert version["subresources"] == {"status": {}}
    columns = [column["name"] for column in version["additionalPrinterColumns"]]
    assert columns == [
        "Service",
        "Objective",
        "Window",
        "Mode",
        "Groups",
        "Ready",
        "Series",
        "Age",
    ]
    series = next(
        column for column in version["additionalPrinterColumns"] if column["name"] == "Series"
    )
    assert conventions.CONDITION_SERIES_FOUND in series["jsonPath"]


# --- helpers ----------------------------------------------------------------------------------

_CEL = "x-kubernetes-validations"


def _cel_rules_for(field: str) -> list[dict[str, Any]]:
    """CEL rules on the field's schema node, or on its parent with fieldPath naming it."""
    parts = field.split(".")[1:]  # below spec
    node, parent = SPEC, None
    for part in parts:
        parent, node = node, node["properties"][part]
    rules = list(node.get(_CEL, []))
    if parent is not None:
        rules += [r for r in parent.get(_CEL, []) if r.get("fieldPath") == f".{parts[-1]}"]
    return rules


def _properties(node: dict[str, Any], path: str):
    for name, child in node.get("properties", {}).items():
        yield f"{path}.{name}", child
        yield from _properties(child, f"{path}.{name}")
        if isinstance(child.get("items"), dict):
            yield from _properties(child["items"], f"{path}.{name}[]")


def _compare(node: dict[str, Any], model: type[BaseModel], path: str) -> None:
    fields = {(info.alias or name): info for name, info in model.model_fields.items()}
    assert set(node["properties"]) == set(fields), path
    assert set(node.get("required", [])) == {
        alias for alias, info in fields.items() if info.is_required()
    }, path
    for alias, info in fields.items():
        child = node["properties"][alias]
        where = f"{path}.{alias}"
        annotation = _unwrap(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            assert child["type"] == "object", where
            _compare(child, annotation, where)
            continue
        if get_origin(annotation) is Literal:
            assert child["enum"] == list(get_args(annotation)), where
        if info.is_required():
            assert "default" not in child, where
            continue
        default = info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):  # an object defaulted to {} and its own defaults
            assert child.get("default") == {}, where
        elif "default" in child:
            assert child["default"] == default, where
        else:  # no default, or an empty map: both mean "absent" to the API server
            assert default in (None, {}), f"{where}: the model defaults to {default!r}, the CRD not"


# Bounds the structural schema checks. OpenAPI 3.0 (the CRD) writes an exclusive bound as
# `minimum: 0, exclusiveMinimum: true`; JSON Schema 2020-12 (pydantic) as `exclusiveMinimum: 0`.
_BOUNDS = ("pattern", "minLength", "maxLength", "maxProperties", "minimum", "maximum")
_EXCLUSIVE = {"minimum": "exclusiveMinimum", "maximum": "exclusiveMaximum"}
# The model checks the objective's range in a validator instead, to say why 100 is refused.
STATED_BY_THE_CRD_ONLY = {
    ("spec.objective", "exclusiveMinimum"),
    ("spec.objective", "exclusiveMaximum"),
}


def _stated(
    node: dict[str, Any], defs: dict[str, Any], path: str
) -> Iterator[tuple[tuple[str, str], Any]]:
    """((field, keyword), value) for every bound under `node`; `.*` stands for a map's values."""
    node = _resolved(node, defs)
    for keyword, value in _bounds(node).items():
        yield (path, keyword), value
    for name, child in node.get("properties", {}).items():
        yield from _stated(child, defs, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _stated(node["additionalProperties"], defs, f"{path}.*")


def _bounds(node: dict[str, Any]) -> dict[str, Any]:
    """The node's bounds, exclusive ones written the JSON Schema 2020-12 way."""
    found = {keyword: node[keyword] for keyword in _BOUNDS if keyword in node}
    for inclusive, exclusive in _EXCLUSIVE.items():
        value = node.get(exclusive)
        if value is True:  # OpenAPI 3.0: a flag on the inclusive bound
            found[exclusive] = found.pop(inclusive)
        elif value is not None and not isinstance(value, bool):  # 2020-12: the bound itself
            found[exclusive] = value
    return found


def _resolved(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """pydantic's `X | None` (anyOf with null) and `$ref`s, as the schema they stand for."""
    if "anyOf" in node:
        [node] = [option for option in node["anyOf"] if option.get("type") != "null"]
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X; Annotated[X, ...] -> X."""
    if get_origin(annotation) in {Union, types.UnionType}:
        [annotation] = [arg for arg in get_args(annotation) if arg is not type(None)]
    while hasattr(annotation, "__metadata__"):
        annotation = annotation.__origin__
    return annotation
