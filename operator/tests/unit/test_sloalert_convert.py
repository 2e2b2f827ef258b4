"""`sloalert convert` (no process): what converts to what, and what is refused, naming its field.

Behaviour (the same error ratio as the source at every window) is checked in the real promtool
by operator/tests/integration/test_sloalert_convert_equivalence.py.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sloalert import convert, documents
from sloalert.cli import main
from testkit import sloalert_testdata as corpus

CONVERT = corpus.TESTDATA / "convert"


def _run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _openslo(**spec: Any) -> str:
    slo = {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": "web"},
        "spec": {
            "service": "web",
            "indicator": {
                "metadata": {"name": "web-errors"},
                "spec": {
                    "ratioMetric": {
                        "counter": True,
                        "good": _source('http_requests_total{code!~"5.."}'),
                        "total": _source("http_requests_total"),
                    }
                },
            },
            "timeWindow": [{"duration": "30d", "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": [{"targetPercent": 99.9}],
            **spec,
        },
    }
    return yaml.safe_dump(slo)


def _source(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def test_each_refusal_names_its_field_and_the_others_are_still_written() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["convert", str(CONVERT)], out=out, err=err)
    assert code == 1
    refused = {line.split(": ")[1]: line.split(": ")[2] for line in err.getvalue().splitlines()}
    assert refused == {
        "Sloth prometheus/v1 (document 1)": "slos[0].sli.plugin",
        "SLO calendar-month (document 2)": "spec.timeWindow[0].isRolling",
        "SLO timeslices (document 3)": "spec.budgetingMethod",
        "SLO threshold-metric (document 4)": "spec.indicator.spec.thresholdMetric",
        "SLO datadog-source (document 5)": (
            "spec.indicator.spec.ratioMetric.total.metricSource.type"
        ),
    }
    written = [doc["metadata"]["name"] for doc in yaml.safe_load_all(out.getvalue())]
    assert len(written) == 5
    out = io.StringIO()
    assert main(["convert", "--strict", str(CONVERT)], out=out, err=io.StringIO()) == 1
    assert out.getvalue() == ""


_SOURCE = re.compile(r"(?P<file>.+): (?P<kind>.+) \(document (?P<index>\d+)\)(?: (?P<field>.+))?")


def test_every_converted_slo_names_its_source() -> None:
    """The annotation leads to the very SLO: its file, its document, and the field it is in."""
    items = documents.read([str(CONVERT)], keep=convert.is_source)
    converted = [r for r in convert.convert(items) if isinstance(r, convert.Converted)]
    assert converted
    for result in converted:
        source = result.resource["metadata"]["annotations"][convert.SOURCE_ANNOTATION]
        found = _SOURCE.fullmatch(source)
        assert found, source
        documents_in_file = list(yaml.safe_load_all(Path(found["file"]).read_text("utf-8")))
        body = documents_in_file[int(found["index"]) - 1]
        if found["field"]:  # Sloth: `slos[1]` or `spec.slos[1]`, named after service and SLO
            *path, last = found["field"].split(".")
            for key in path:
                body = body[key]
            [(key, position)] = re.findall(r"(\w+)\[(\d+)\]", last)
            slo_name = body[key][int(position)]["name"]
            assert result.resource["metadata"]["name"].endswith(convert.name(slo_name)), source
        else:  # OpenSLO: the SLO document itself
            assert found["kind"] == f"SLO {body['metadata']['name']}", source


def test_good_over_total_becomes_an_expression_with_the_window_placeholder() -> None:
    code, out, err = _run("convert", "-", stdin=_openslo())
    assert code == 0, err
    [slo] = yaml.safe_load_all(out)
    expression = slo["spec"]["indicator"]["expression"]
    assert 'sum(rate(http_requests_total{code!~"5.."}[$window]))' in expression
    assert "sum(rate(http_requests_total[$window]))" in expression
    assert slo["spec"]["objective"] == 99.9


def test_a_burn_rate_condition_no_tier_expresses_is_refused_naming_it() -> None:
    policy = {
        "kind": "AlertPolicy",
        "metadata": {"name": "p"},
        "spec": {
            "conditions": [
                {
                    "kind": "AlertCondition",
                    "metadata": {"name": "c"},
                    "spec": {
                        "condition": {
                            "kind": "burnrate",
                            "op": "gt",
                            "threshold": 10,
                            "lookbackWindow": "2h",
                        }
                    },
                }
            ]
        },
    }
    code, out, err = _run("convert", "-", stdin=_openslo(alertPolicies=[policy]))
    assert (code, out) == (1, "")
    assert (
        "SLO web (document 1): spec.alertPolicies[0].spec.conditions[0].spec.condition: 10x over 2h"
        in err
    )
    assert "14.4x over 1h (page)" in err


def test_a_converted_slo_sloalert_refuses_is_reported_not_written() -> None:
    code, out, err = _run("convert", "-", stdin=_openslo(description=["not", "text"], service="-x"))
    assert (code, out) == (1, "")
    assert "converts to an SLOAlert sloalert refuses: spec.service:" in err


def test_input_without_any_slo_to_convert_is_an_error() -> None:
    code, out, err = _run("convert", "-", stdin="apiVersion: v1\nkind: ConfigMap\n")
    assert (code, out) == (1, "")
    assert "no Sloth or OpenSLO SLO found" in err


@pytest.mark.parametrize("text", ["Sloth's Dev", "a/b", "--x--"])
def test_names_become_kubernetes_names(text: str) -> None:
    made = convert.name(text)
    assert made and made == made.lower() and not made.startswith("-")


def test_slothes_window_placeholder_may_be_spaced_and_a_raw_ratio_is_taken_as_it_is() -> None:
    sloth = (
        'version: "prometheus/v1"\nservice: api\nslos:\n'
        "  - name: raw\n    objective: 99\n    sli:\n      raw:\n"
        "        error_ratio_query: 1 - avg_over_time(up{job='api'}[{{ .window }}])\n"
    )
    code, out, err = _run("convert", "-", stdin=sloth)
    assert code == 0, err
    [slo] = yaml.safe_load_all(out)
    assert slo["spec"]["indicator"]["expression"] == "1 - avg_over_time(up{job='api'}[$window])"
    assert slo["metadata"]["name"] == "api-raw"


_SLOTH_SLO = {
    "name": "up",
    "objective": 99,
    "sli": {"raw": {"error_ratio_query": "rate(x[{{.window}}])"}},
}


def _sloth(**fields: Any) -> str:
    return yaml.safe_dump({"version": "prometheus/v1", "service": "api", **fields})


def _sloth_slo(**fields: Any) -> str:
    return _sloth(slos=[{**_SLOTH_SLO, **fields}])


def _openslo_indicator(indicator: Any) -> str:
    return _openslo(indicator=indicator)


@pytest.mark.parametrize("value", [["a", "b"], "x", 3])
@pytest.mark.parametrize(
    ("stdin", "field"),
    [
        (lambda v: _sloth(slos=[v]), "slos[0]"),
        (lambda v: _sloth_slo(sli=v), "slos[0].sli"),
        (lambda v: _sloth_slo(sli={"events": v}), "slos[0].sli.events"),
        (lambda v: _sloth_slo(sli={"raw": v}), "slos[0].sli.raw"),
        (lambda v: _sloth_slo(alerting=v), "slos[0].alerting"),
        (lambda v: _sloth_slo(alerting={"page_alert": v}), "slos[0].alerting.page_alert"),
        (lambda v: _sloth_slo(alerting={"ticket_alert": v}), "slos[0].alerting.ticket_alert"),
        (lambda v: _sloth_slo(labels=v), "slos[0].labels"),
        (lambda v: _sloth(labels=v, slos=[_SLOTH_SLO]), ": labels"),
        (
            lambda v: yaml.safe_dump(
                {
                    "apiVersion": "sloth.slok.dev/v1",
                    "kind": "PrometheusServiceLevel",
                    "metadata": {"name": "a"},
                    "spec": v,
                }
            ),
            ": spec",
        ),
        (
            lambda v: yaml.safe_dump(
                {
                    "apiVersion": "sloth.slok.dev/v1",
                    "kind": "PrometheusServiceLevel",
                    "metadata": v,
                    "spec": {"service": "a", "slos": [_SLOTH_SLO]},
                }
            ),
            ": metadata",
        ),
        (_openslo_indicator, "spec.indicator"),
        (lambda v: _openslo_indicator({"spec": v}), "spec.indicator.spec"),
        (lambda v: _openslo_indicator({"spec": {"ratioMetric": v}}), "ratioMetric"),
        (lambda v: _openslo(alertPolicies=[v]), "spec.alertPolicies[0]"),
        (lambda v: _openslo(alertPolicies=[{"kind": "AlertPolicy", "spec": v}]), "[0].spec"),
        (lambda v: _openslo(objectives=[v]), "spec.objectives[0]"),
        (lambda v: _openslo(timeWindow=[v]), "spec.timeWindow"),
        (
            lambda v: _openslo().replace("metadata:\n  name: web\n", f"metadata: {v!r}\n"),
            ": metadata",
        ),
    ],
)
def test_a_value_that_should_be_a_map_is_refused_naming_its_field(
    stdin: Any, field: str, value: Any
) -> None:
    code, out, err = _run("convert", "-", stdin=stdin(value))
    assert (code, out) == (1, ""), err
    [line] = err.splitlines()
    assert f"{field}: " in line, line
    assert "Traceback" not in err


def test_slos_converting_to_one_name_are_refused_naming_both_sources() -> None:
    """Sloth service `a-b` SLO `c` and service `a` SLO `b-c` would both be `a-b-c`: applied,
    the second would replace the first."""
    first = yaml.safe_dump(
        {"version": "prometheus/v1", "service": "a-b", "slos": [_SLOTH_SLO | {"name": "c"}]}
    )
    second = yaml.safe_dump(
        {"version": "prometheus/v1", "service": "a", "slos": [_SLOTH_SLO | {"name": "b-c"}]}
    )
    code, out, err = _run("convert", "-", stdin=f"{first}---\n{second}")
    assert code == 1
    assert [slo["metadata"]["name"] for slo in yaml.safe_load_all(out)] == ["a-b-c"]
    [line] = err.splitlines()
    assert line.startswith("-: Sloth prometheus/v1 (document 2): slos[0]: ")
    assert "'a-b-c', which -: Sloth prometheus/v1 (document 1) slos[0] converts to too" in line


@pytest.mark.parametrize(
    ("stdin", "field"),
    [
        (_sloth_slo(objective=100), "slos[0].objective"),
        (_sloth_slo(objective="high"), "slos[0].objective"),
        (_openslo(objectives=[{"target": 99}]), "spec.objectives[0].target"),
        (_openslo(objectives=[{"targetPercent": 0}]), "spec.objectives[0].targetPercent"),
        (
            yaml.safe_dump(
                {
                    "apiVersion": "sloth.slok.dev/v1",
                    "kind": "PrometheusServiceLevel",
                    "metadata": {"name": "a"},
                    "spec": {"slos": [_SLOTH_SLO]},
                }
            ),
            "spec.service",
        ),
        (
            _sloth_slo(sli={"events": {"error_query": "x{s='{{.service}}'}", "total_query": "y"}}),
            "slos[0].sli.events.error_query",
        ),
        (
            _openslo_indicator(
                {
                    "spec": {
                        "ratioMetric": {
                            "counter": True,
                            "bad": {"metricSource": {"metricSourceRef": "nowhere"}},
                            "total": _source("y"),
                        }
                    }
                }
            ),
            "spec.indicator.spec.ratioMetric.bad.metricSource.metricSourceRef",
        ),
    ],
)
def test_a_refusal_names_the_source_field(stdin: str, field: str) -> None:
    code, out, err = _run("convert", "-", stdin=stdin)
    assert (code, out) == (1, ""), err
    [line] = err.splitlines()
    assert f": {field}: " in line, line


def test_a_metric_source_ref_takes_the_type_of_the_data_source_it_names() -> None:
    source = {"metricSource": {"metricSourceRef": "prom", "spec": {"query": "errors_total"}}}
    indicator = {"spec": {"ratioMetric": {"counter": True, "bad": source, "total": _source("y")}}}
    data_source = {
        "apiVersion": "openslo/v1",
        "kind": "DataSource",
        "metadata": {"name": "prom"},
        "spec": {"type": "Prometheus", "connectionDetails": {}},
    }
    stdin = f"{_openslo_indicator(indicator)}---\n{yaml.safe_dump(data_source)}"
    code, out, err = _run("convert", "-", stdin=stdin)
    assert code == 0, err
    [slo] = yaml.safe_load_all(out)
    assert slo["spec"]["indicator"]["ratio"] == {"errors": "errors_total", "total": "y"}


def test_an_unreadable_path_is_named_without_an_empty_document() -> None:
    code, _, err = _run("convert", "/nonexistent")
    assert code == 1
    assert err.startswith("/nonexistent: path: "), err
