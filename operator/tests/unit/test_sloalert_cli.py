"""The CLI: `sloalert validate` and `sloalert render` over files, directories and stdin."""

from __future__ import annotations

import io

import pytest
import yaml
from sloalert.cli import main
from testkit import sloalert_testdata as corpus

VALID_YAML = (corpus.TESTDATA / "valid" / "minimal-availability.yaml").read_text()


def _run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_validate_passes_the_example_manifests() -> None:
    code, out, _ = _run("validate", str(corpus.MANIFESTS))
    assert code == 0
    assert out.strip() == f"ok: {len(list(corpus.MANIFESTS.glob('*.yaml')))} SLOAlert(s) valid"


@pytest.mark.parametrize("example", corpus.invalid(), ids=lambda e: e.id)
def test_validate_refuses_each_bad_resource_naming_file_resource_and_field(
    example: corpus.Example,
) -> None:
    code, out, _ = _run("validate", str(example.path))
    assert code == 1
    prefix = f"{example.path}: apps/{example.id}: {example.field}: "
    assert any(line.startswith(prefix) and example.says in line for line in out.splitlines()), out


def test_validate_prints_one_line_per_problem_across_a_directory() -> None:
    code, out, _ = _run("validate", str(corpus.TESTDATA / "invalid"))
    assert code == 1
    assert len(out.splitlines()) == len(corpus.invalid())


def test_validate_reads_stdin_and_several_documents_per_file() -> None:
    bad = VALID_YAML.replace("objective: 99.9", "objective: 100").replace(
        "name: minimal-availability", "name: second"
    )
    code, out, _ = _run("validate", "-", stdin=f"{VALID_YAML}---\n{bad}")
    assert code == 1
    [line] = out.splitlines()
    assert line.startswith("-: apps/second: spec.objective: ")


def test_documents_of_other_apis_are_skipped_but_a_misspelt_kind_is_not() -> None:
    other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    code, out, _ = _run("validate", "-", stdin=f"{other}---\n{VALID_YAML}")
    assert (code, out.strip()) == (0, "ok: 1 SLOAlert(s) valid")
    code, out, _ = _run(
        "validate", "-", stdin=VALID_YAML.replace("kind: SLOAlert", "kind: SLOAlrt")
    )
    assert code == 1
    assert ": kind: " in out


def test_unreadable_input_is_a_problem_with_its_place() -> None:
    code, out, _ = _run("validate", "does/not/exist.yaml")
    assert (code, out.strip()) == (1, "does/not/exist.yaml: path: no such file or directory")
    code, out, _ = _run("validate", "-", stdin="spec: [unclosed")
    assert code == 1
    assert out.startswith("-: yaml: ")
    code, out, _ = _run("validate", "-", stdin="")
    assert (code, out.strip()) == (1, "-: input: no SLOAlert found")


def test_two_resources_with_one_name_are_refused() -> None:
    code, out, _ = _run("validate", "-", stdin=f"{VALID_YAML}---\n{VALID_YAML}")
    assert code == 1
    assert "metadata.name: already used" in out


def test_render_prints_prometheus_rules_and_rules_format_prints_a_rule_file() -> None:
    code, out, _ = _run("render", "--label", "release=kps", str(corpus.MANIFESTS))
    assert code == 0
    objects = list(yaml.safe_load_all(out))
    assert {o["kind"] for o in objects} == {"PrometheusRule"}
    assert all(o["metadata"]["labels"]["release"] == "kps" for o in objects)
    code, out, _ = _run("render", "--format", "rules", str(corpus.MANIFESTS))
    [rules] = list(yaml.safe_load_all(out))
    assert rules["groups"] == [group for o in objects for group in o["spec"]["groups"]]


def test_render_prints_nothing_when_any_resource_is_invalid() -> None:
    code, out, err = _run("render", str(corpus.TESTDATA / "invalid" / "objective-100.yaml"))
    assert (code, out) == (1, "")
    assert "spec.objective" in err


def test_a_malformed_label_option_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        _run("render", "--label", "novalue", "-")
    assert exited.value.code == 2


def test_validate_reports_shape_semantic_and_template_problems_in_one_run() -> None:
    # The newcomer's file: an objective of 100 and `windw` (shape), a threshold that is no
    # bucket boundary (semantics) and an unclosed `{{` (template), all in the first run.
    bad = (
        VALID_YAML.replace("objective: 99.9", "objective: 100\n  windw: 30d").replace(
            "preset: {name: fastapi-availability, job: fastapi}",
            "preset: {name: fastapi-latency, job: fastapi, thresholdSeconds: 0.3}",
        )
        + "  annotations: {summary: '{{ $labels.job'}\n"
    )
    code, out, _ = _run("validate", "-", stdin=bad)
    assert code == 1
    fields = sorted(line.split(": ")[2] for line in out.splitlines())
    assert fields == [
        "spec.annotations.summary",
        "spec.indicator.preset.thresholdSeconds",
        "spec.objective",
        "spec.windw",
    ], out
