"""The Grafana alerts' summary and description, rendered: humanized values, never raw floats.

No Grafana runs here, and no Go toolchain. Grafana's alert templates are Go text/template with
functions copied from Prometheus' template package (`humanizePercentage`, `printf`, ...), so
they are rendered by the real Prometheus template engine: `promtool test rules` expands an
alerting rule's annotations and compares them with the expected text. Grafana gives a template
`$values` (per refId: `$values.B.Value` the float64 of query B) where Prometheus gives `$value`
(the same float64); that one name is the only translation, and the test checks it is the only
form of `$values` the annotations use. Labels (`$labels.job`) are the same in both.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from testkit import promtool, stack_config

RULES = {
    rule["uid"]: rule for group in stack_config.grafana_rule_groups() for rule in group["rules"]
}
GRAFANA_VALUE = "$values.B.Value"
# What each rule's query B reads when it fires, and the text a person should read then.
CASES = {
    "fdc-high-5xx-error-rate": (
        0.013333333333333334,
        {},
        {
            "summary": "5xx error rate is high: 1.333% (> 1%)",
            "description": "Current value (B) = 1.333% / threshold = 1%",
        },
    ),
    "fdc-fastapi-p95-latency": (
        1.7999999999999998,
        {"job": "fastapi"},
        {
            "summary": "FastAPI p95 latency high: 1.80s (> 1.5s)",
            "description": "Job: fastapi",
        },
    ),
}


def as_prometheus_template(text: str) -> str:
    """Grafana's `$values.B.Value` as Prometheus' `$value`; nothing else changes."""
    assert not re.search(r"\$values(?!\.B\.Value\b)", text), f"another $values form: {text!r}"
    return text.replace(GRAFANA_VALUE, "$value")


def test_every_rule_is_rendered_here() -> None:
    assert set(RULES) == set(CASES)


@pytest.mark.parametrize("uid", CASES)
def test_the_alert_text_shows_humanized_values(uid: str, tmp_path: Path) -> None:
    value, labels, expected = CASES[uid]
    annotations = {
        key: as_prometheus_template(text)
        for key, text in RULES[uid]["annotations"].items()
        if key in ("summary", "description")
    }
    for text in annotations.values():
        assert "$value" in text, "each shows the value"
    # A vector of the rule's value and labels: what query B reduces to when the rule fires.
    expr = f"vector({value!r})"
    for name, label in labels.items():
        expr = f'label_replace({expr}, "{name}", "{label}", "", "")'
    rule_file = {
        "groups": [
            {"name": uid, "rules": [{"alert": uid, "expr": expr, **{"annotations": annotations}}]}
        ]
    }
    rendered = render(rule_file, uid, labels, tmp_path)
    assert rendered["summary"] == expected["summary"]
    assert expected["description"] in rendered["description"]
    assert not re.search(r"\d\.\d{4,}", " ".join(rendered.values())), f"a raw float: {rendered}"


def render(rule_file: dict, alert: str, labels: dict[str, str], workdir: Path) -> dict[str, str]:
    """The annotations promtool renders for the firing alert: read back from its report of
    what it got when told to expect none (promtool only compares)."""
    test = {
        "interval": "1m",
        "input_series": [],
        "alert_rule_test": [{"eval_time": "1m", "alertname": alert, "exp_alerts": []}],
    }
    result = promtool.run_rule_tests(promtool.promtool(), rule_file, [test], workdir)
    assert not result.passed, "the alert fires"
    got = re.search(r"got:\[(.*)\]\s*$", result.output, re.S)
    assert got, result.output
    annotations = {}
    for key in ("summary", "description"):
        found = re.search(rf'{key}="((?:[^"\\]|\\.)*)"', got.group(1))
        assert found, result.output
        annotations[key] = found.group(1).encode().decode("unicode_escape")
    for name, value in labels.items():
        assert f'{name}="{value}"' in got.group(1)
    return annotations
