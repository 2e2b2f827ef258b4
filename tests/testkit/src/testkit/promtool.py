"""Run the real promtool on rule files: `check rules`, and `test rules` on synthetic series.

A rule test is written the way promtool reads it (rule_files, evaluation_interval, tests with
input_series, alert_rule_test and promql_expr_test), into a fresh directory, and promtool's
verdict and output come back. Series values use promtool's expanding notation: `0+60x120` is
121 samples counting up by 60, `_` a missing sample, `stale` a staleness marker.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testkit.tools import require_tool

TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def promtool() -> Path:
    """The promtool binary (skips the test locally, fails it under CI, when missing)."""
    return require_tool("promtool")


def run(binary: Path, *args: str | Path, cwd: Path | None = None) -> Result:
    done = subprocess.run(
        [str(binary), *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
        cwd=cwd,
    )
    return Result(done.returncode, done.stdout + done.stderr)


def check_rules(binary: Path, rule_file: Path) -> Result:
    """`promtool check rules FILE` (with the linter on: duplicates fail too)."""
    return run(binary, "check", "rules", "--lint-fatal", rule_file)


def check_rules_text(binary: Path, text: str, workdir: Path) -> Result:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return check_rules(binary, path)


def run_rule_tests(
    binary: Path,
    rule_file: Mapping[str, Any],
    tests: Sequence[Mapping[str, Any]],
    workdir: Path,
    *,
    evaluation_interval: str = "1m",
    group_eval_order: Sequence[str] = (),
) -> Result:
    """Write `rule_file` and a test file for `tests` into `workdir`, run `promtool test rules`.

    promtool evaluates the groups of one timestamp in no fixed order unless `group_eval_order`
    names them: give it when a group reads another's recordings of the same evaluation.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "rules.yaml").write_text(yaml.safe_dump(dict(rule_file), sort_keys=False))
    test_file = workdir / "tests.yaml"
    content: dict[str, Any] = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": evaluation_interval,
    }
    if group_eval_order:
        content["group_eval_order"] = list(group_eval_order)
    content["tests"] = [dict(test) for test in tests]
    test_file.write_text(yaml.safe_dump(content, sort_keys=False))
    return run(binary, "test", "rules", test_file.name, cwd=workdir)


# What promtool prints for a failed promql_expr_test: the expression (Go-quoted), then got.
_FAILED_EXPR = re.compile(
    r'^\s*expr: (?P<expr>".*"), time: .*\n\s*exp: .*\n\s*got: (?P<got>.*)$', re.M
)
_GOT_VALUE = re.compile(r"\} ([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))(?:, |$)")


def ask(
    binary: Path,
    rule_file: Mapping[str, Any],
    test_group: Mapping[str, Any],
    exprs: Sequence[str],
    eval_time: str,
    workdir: Path,
    *,
    evaluation_interval: str = "1m",
    group_eval_order: Sequence[str] = (),
) -> dict[str, list[float]]:
    """The values of `exprs` at `eval_time` after promtool evaluated the rules on `test_group`
    (its interval and input_series): one float per series, an empty list for no sample.

    promtool only compares: each expression is tested against no samples, and its values are
    read from what promtool reports getting. The expressions must differ from one another.
    """
    if len(set(exprs)) != len(exprs):
        raise ValueError("ask() tells answers apart by their expression: make them differ")
    tests = [expr_test(expr, eval_time) for expr in exprs]
    result = run_rule_tests(
        binary,
        rule_file,
        [{**test_group, "promql_expr_test": tests}],
        workdir,
        evaluation_interval=evaluation_interval,
        group_eval_order=group_eval_order,
    )
    answers: dict[str, list[float]] = {expr: [] for expr in exprs}
    for failed in _FAILED_EXPR.finditer(result.output):
        expr = json.loads(failed["expr"])
        answers[expr] = [float(value) for value in _GOT_VALUE.findall(failed["got"])]
    if not result.passed and not any(answers.values()):
        raise RuntimeError(f"promtool failed without answering:\n{result.output}")
    return answers


def series(name: str, labels: Mapping[str, str], values: str) -> dict[str, str]:
    """One input series: `name{labels}` with promtool's value notation."""
    inner = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def counter(*phases: tuple[int, float], start: float = 0.0) -> str:
    """A counter that grows by `per_sample` for `samples` samples in each (samples, per_sample).

    The first value is `start`; `counter((60, 1.0))` is 61 samples from 0 to 60. Whole-number
    steps use promtool's expanding notation; fractional ones are written out sample by sample,
    because promtool accumulates `a+bxn` in floating point and a segment that starts a hair
    below where the previous one ended reads as a counter reset.
    """
    parts = [_num(start)]
    value = start
    for samples, per_sample in phases:
        if samples <= 0:
            continue
        if float(value).is_integer() and float(per_sample).is_integer():
            parts.append(f"{_num(value + per_sample)}+{_num(per_sample)}x{samples - 1}")
        else:
            parts.extend(_num(round(value + per_sample * i, 9)) for i in range(1, samples + 1))
        value = round(value + per_sample * samples, 9)
    return " ".join(parts)


def alert_test(
    eval_time: str, alertname: str, firing: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Expect exactly `firing` (each {"exp_labels": ..., "exp_annotations"?: ...}) at eval_time."""
    return {"eval_time": eval_time, "alertname": alertname, "exp_alerts": [dict(a) for a in firing]}


def expr_test(
    expr: str, eval_time: str, samples: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Expect `expr` at `eval_time` to give exactly `samples` ({"labels": "{...}", "value": x})."""
    return {"expr": expr, "eval_time": eval_time, "exp_samples": [dict(s) for s in samples]}


def without_annotations(rule_file: Mapping[str, Any]) -> dict[str, Any]:
    """The rule file with alert annotations dropped.

    promtool compares annotations exactly, and ours render `$value` (a float whose digits are
    not the point of a timing test); tests that do check annotations keep them.
    """
    return {
        "groups": [
            {
                **group,
                "rules": [
                    {key: value for key, value in rule.items() if key != "annotations"}
                    for rule in group["rules"]
                ],
            }
            for group in rule_file["groups"]
        ]
    }


def _num(value: float) -> str:
    return format(value, ".12g")


def labels_text(labels: Mapping[str, str]) -> str:
    """`{a="1", b="2"}`, sorted, as promtool's exp_samples want it."""
    return "{" + ", ".join(f'{key}="{labels[key]}"' for key in sorted(labels)) + "}"
