"""Label and annotation values are Prometheus templates: validate refuses what promtool refuses.

Each case goes through both the real `promtool check rules` (as an alert's annotation or label)
and `sloalert` validation, so the template check agrees with Prometheus' own parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sloalert import conventions
from sloalert.errors import InvalidSLOAlert
from sloalert.validation import load
from testkit import promtool

pytestmark = pytest.mark.integration

# template -> whether Prometheus can parse it
AGREED = {
    "{{ $labels.job }} on {{ $labels.instance }}": True,
    '{{ printf "%.1f" $value }}': True,
    '{{ "}}" }} inside a quoted string closes nothing': True,
    "{{/* }} */}} inside a comment closes nothing": True,
    '{{ "{{" }} is how sloalert writes a literal opening delimiter': True,
    "{{ `raw }}` }}": True,
    "{{ $labels.job ": False,
    '{{ $labels.job "}}': False,
    "{{ $labels.job {{ $labels.instance }}": False,
    "{{/* an unclosed comment": False,
    "{{ $value | humanize }} and {{ $labels.job | toUpper }}": True,
    '{{ if eq $labels.job "api" }}api{{ else }}other{{ end }}': True,
    "{{ range $key, $val := $labels }}{{ $key }}={{ $val }} {{ end }}": True,
    "{{ $labels.instance | stripPort }}": True,
    "{{ nosuchfunc }}": False,
    "{{ $labels.job | nosuchfunc }}": False,
    "{{ $undeclared }}": False,
    "{{ if true }}never ended": False,
    "{{ end }}": False,
    "{{ else }}": False,
}


def _resource(field: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": conventions.API_VERSION,
        "kind": conventions.KIND,
        "metadata": {"name": "fastapi-availability", "namespace": "apps"},
        "spec": {
            "service": "fastapi",
            "indicator": {"preset": {"name": "fastapi-availability", "job": "fastapi"}},
            "objective": 99.9,
            "alerting": {"page": {field: {"note": value}}},
        },
    }


def _sloalert_accepts(field: str, value: str) -> bool:
    try:
        load(_resource(field, value))
    except InvalidSLOAlert as refused:
        [problem] = refused.problems
        assert problem.field == f"spec.alerting.page.{field}.note", problem
        assert "is not a valid Prometheus template" in problem.message, problem
        return False
    return True


def _promtool_accepts(field: str, value: str, tmp_path: Path) -> bool:
    rule = {"alert": "A", "expr": "vector(1)", field: {"note": value}}
    text = yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]})
    return promtool.check_rules_text(promtool.promtool(), text, tmp_path).passed


@pytest.mark.parametrize("field", ["annotations", "labels"])
@pytest.mark.parametrize(("template", "parses"), AGREED.items(), ids=list(AGREED))
def test_validate_refuses_exactly_the_templates_promtool_refuses(
    template: str, parses: bool, field: str, tmp_path: Path
) -> None:
    assert _promtool_accepts(field, template, tmp_path) is parses
    assert _sloalert_accepts(field, template) is parses


def test_a_stray_closing_delimiter_is_refused_though_go_reads_it_as_text(tmp_path: Path) -> None:
    # Stricter than Prometheus on purpose: `{ $labels.job }}` is a typo, never meant as text.
    template = "{ $labels.job }}"
    assert _promtool_accepts("annotations", template, tmp_path)
    assert not _sloalert_accepts("annotations", template)


@pytest.mark.parametrize(
    "template",
    ['{{ range query "up" }}{{ .Labels.instance }} {{ end }}', '{{ with query "up" }}x{{ end }}'],
)
def test_query_is_refused_though_prometheus_would_run_it(template: str, tmp_path: Path) -> None:
    # Multi-tenant: `query` reads every tenant's series with Prometheus' full view.
    assert _promtool_accepts("annotations", template, tmp_path)
    with pytest.raises(InvalidSLOAlert) as refused:
        load(_resource("annotations", template))
    [problem] = refused.value.problems
    assert problem.field == "spec.alerting.page.annotations.note"
    assert problem.message.startswith("may not call query (at character 0): it reads")


def test_the_problem_names_the_field_and_where_the_template_breaks() -> None:
    body = _resource("annotations", "ok")
    body["spec"]["annotations"] = {"summary": "{{ $labels.job ", "description": "fine"}
    with pytest.raises(InvalidSLOAlert) as refused:
        load(body)
    [problem] = refused.value.problems
    assert problem.field == "spec.annotations.summary"
    assert problem.message == (
        "is not a valid Prometheus template: the {{ at character 0 is never closed by }}"
    )
