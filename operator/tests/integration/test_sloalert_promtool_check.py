"""Every rendering passes the real `promtool check rules` (with duplicate-rule linting fatal)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sloalert.generator import generate
from sloalert.render import rule_file, to_yaml
from sloalert.validation import load
from testkit import promtool
from testkit import sloalert_testdata as corpus

pytestmark = pytest.mark.integration

EXAMPLES = corpus.valid() + corpus.golden_inputs()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.path.parent.name}/{e.id}")
def test_the_rules_of_every_example_pass_promtool_check_rules(
    example: corpus.Example, tmp_path: Path
) -> None:
    text = to_yaml([rule_file([generate(load(example.body))])])
    result = promtool.check_rules_text(promtool.promtool(), text, tmp_path)
    assert result.passed, result.output
    assert "SUCCESS" in result.output


def test_render_of_the_manifests_piped_into_promtool_passes(tmp_path: Path) -> None:
    binary = promtool.promtool()
    render = subprocess.run(
        [sys.executable, "-m", "sloalert", "render", "--format", "rules", str(corpus.MANIFESTS)],
        capture_output=True,
        text=True,
        check=True,
    )
    check = subprocess.run(
        [str(binary), "check", "rules", "--lint-fatal"],
        input=render.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    rules = sum(
        1
        for line in render.stdout.splitlines()
        if line.lstrip().startswith(("- record:", "- alert:"))
    )
    assert f"SUCCESS: {rules} rules found" in check.stdout + check.stderr


def test_promtool_check_fails_on_a_broken_rule_so_the_check_can_fail(tmp_path: Path) -> None:
    broken = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(rate(x[5m])\n"
    result = promtool.check_rules_text(promtool.promtool(), broken, tmp_path)
    assert not result.passed
