"""Grafana's alerting provisioning shipped by the umbrella: the files parse, every reference in
them resolves (contact point, datasource uid, query refIds), the two seed alerts say what the
seed says, and every query reads metrics the apps really export with the app charts' jobs.
(The whole-path dead-query check runs these queries against live apps.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.models import alerting
from sloalert import exporters, templates
from sloalert.promql import parse, selectors_in
from testkit import stack_config
from testkit.helm import chart_path

EXPRESSION_UID = "__expr__"
GRAFANA = stack_config.kps_values()["grafana"]
RULES = {
    rule["uid"]: rule for group in stack_config.grafana_rule_groups() for rule in group["rules"]
}
EXPORTED = {
    name
    for family in (*exporters.FASTAPI_FAMILIES, *exporters.DJANGO_FAMILIES)
    for name in (
        [family.bucket, family.count, f"{family.name}_sum"]
        if family.kind == "histogram"
        else [family.name]
    )
}
# The seed's two alerts: threshold, labels, and words of the summary.
SEED = {
    "fdc-high-5xx-error-rate": (0.01, {"severity": "warning", "service": "web"}, "> 1%"),
    "fdc-fastapi-p95-latency": (1.5, {"severity": "warning", "service": "fastapi"}, "> 1.5s"),
}


def app_jobs() -> set[str]:
    """The `job` each app chart gives its series by default (serviceMonitor.job)."""
    jobs = set()
    for chart in ("fastdining-api", "airestaurant"):
        values = yaml.safe_load((chart_path(chart) / "values.yaml").read_text())
        jobs.add(values["serviceMonitor"]["job"])
    return jobs


def test_every_file_is_provisioning_format_1() -> None:
    files = stack_config.grafana_provisioning()
    assert set(files) == set(stack_config.GRAFANA_ALERTING_FILES)
    for name, content in files.items():
        assert content["apiVersion"] == 1, name


def test_the_policy_names_the_contact_point_to_the_relay() -> None:
    points = {point["name"]: point for point in stack_config.grafana_contact_points()}
    [policy] = stack_config.grafana_policies()
    assert policy["receiver"] in points
    [receiver] = points[policy["receiver"]]["receivers"]
    settings = receiver["settings"]
    assert receiver["type"] == "webhook"
    assert receiver["disableResolveMessage"] is False
    assert settings["url"] == f"{stack_config.IN_CLUSTER_RELAY_URL}/grafana"
    assert settings["authorization_scheme"] == "Bearer"


def test_the_token_comes_from_the_relays_secret_through_the_environment() -> None:
    [point] = stack_config.grafana_contact_points()
    credentials = point["receivers"][0]["settings"]["authorization_credentials"]
    variable = re.fullmatch(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", credentials)
    assert variable, f"{credentials!r} is not a $VARIABLE Grafana interpolates"
    source = GRAFANA["envValueFrom"][variable.group(1)]
    assert source == {"secretKeyRef": {"name": stack_config.RELAY_FULLNAME, "key": "token"}}


def _strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in _strings(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [item for i, value in enumerate(node) for item in _strings(value, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def test_no_stray_dollar_for_grafana_to_interpolate() -> None:
    """Grafana replaces $VAR in provisioning files except in annotations and query models: any
    other `$` would be eaten. Only the token's variable may be there."""
    for name, content in stack_config.grafana_provisioning().items():
        for path, text in _strings(content):
            if ".annotations." in path or ".model." in path:
                continue
            assert "$" not in text or text == "$FDC_RELAY_TOKEN", f"{name}{path}: {text!r}"


@pytest.mark.parametrize("uid", SEED)
def test_each_rule_resolves_its_references(uid: str) -> None:
    rule = RULES[uid]
    data = {item["refId"]: item for item in rule["data"]}
    assert rule["condition"] in data
    datasource = GRAFANA["sidecar"]["datasources"]["uid"]
    for ref, item in data.items():
        assert item["model"]["refId"] == ref
        if item["datasourceUid"] == EXPRESSION_UID:
            assert item["model"]["expression"] in data, f"{uid} {ref} reads a missing refId"
        else:
            assert item["datasourceUid"] == datasource, f"{uid} {ref}: not kps' Prometheus"
    condition = data[rule["condition"]]["model"]
    assert condition["type"] == "threshold"
    reduced = data[condition["expression"]]["model"]
    assert reduced["type"] == "reduce"
    assert data[reduced["expression"]]["datasourceUid"] == datasource


@pytest.mark.parametrize("uid", SEED)
def test_each_rule_is_the_seeds(uid: str) -> None:
    threshold, labels, summary_words = SEED[uid]
    rule = RULES[uid]
    data = {item["refId"]: item for item in rule["data"]}
    [evaluator] = [c["evaluator"] for c in data[rule["condition"]]["model"]["conditions"]]
    assert evaluator == {"type": "gt", "params": [threshold]}
    assert rule["for"] == "5m"
    assert (rule["noDataState"], rule["execErrState"]) == ("NoData", "Error")
    assert rule["labels"] == labels
    annotations = rule["annotations"]
    assert set(annotations) == {"summary", "description", "runbook_url"}
    assert summary_words in annotations["summary"] and "$values" in annotations["summary"]
    for words in ("Job", "Instance", "$values", "threshold", "Check:"):
        assert words in annotations["description"], words
    assert (
        annotations["runbook_url"] == stack_config.values()["grafanaAlerting"]["runbookUrls"][uid]
    )
    for key, text in annotations.items():
        assert templates.problem(text) is None, f"{uid} {key}: {templates.problem(text)}"


def test_groups_evaluate_every_30s_in_the_configured_folder() -> None:
    folder = stack_config.values()["grafanaAlerting"]["folder"]
    for group in stack_config.grafana_rule_groups():
        assert group["interval"] == "30s"
        assert group["folder"] == folder


def test_every_query_reads_exported_metrics_with_the_app_charts_jobs() -> None:
    queries = stack_config.grafana_alert_queries()
    assert {query.rule_uid for query in queries} == set(SEED)
    for query in queries:
        selectors = selectors_in(parse(query.expr))
        assert selectors, str(query)
        for selector in selectors:
            assert selector.metric in EXPORTED, f"{query}: {selector.metric} is not exported"
            jobs = [m.value for m in selector.matchers if m.label == "job"]
            assert jobs and set(jobs) <= app_jobs(), f"{query}: {selector} reads job {jobs}"


def test_the_5xx_ratio_covers_both_apps() -> None:
    [query] = [
        q for q in stack_config.grafana_alert_queries() if q.rule_uid.endswith("5xx-error-rate")
    ]
    selectors = selectors_in(parse(query.expr))
    both = {exporters.FASTAPI_REQUESTS.name, exporters.DJANGO_RESPONSES.name}
    assert {selector.metric for selector in selectors} == both
    # The status each app really exports for a server error: grouped "5xx" or the exact code.
    answers = {exporters.FASTAPI_REQUESTS.name: "5xx", exporters.DJANGO_RESPONSES.name: "503"}
    errors = {
        selector.metric
        for selector in selectors
        for matcher in selector.matchers
        if matcher.label == "status" and re.fullmatch(matcher.value, answers[selector.metric])
    }
    assert errors == both, "each app's 5xx must be in the numerator"


def _round_trip(model: Any, data: dict[str, Any], file_only: set[str]) -> dict[str, Any]:
    """`data` through the SDK's model of the same Grafana object, minus the file-only keys."""
    kept = {key: value for key, value in data.items() if key not in file_only}
    return model.from_json(kept).to_json()


def test_every_key_is_one_grafana_knows() -> None:
    """grafana-foundation-sdk 11.6 (Grafana's own schema, generated) drops keys it does not know:
    a misspelt field (`noDataStat`) would vanish in the round trip instead of passing unseen."""
    for group in stack_config.grafana_rule_groups():
        for rule in group["rules"]:
            again = _round_trip(alerting.Rule, rule, set())
            assert again.keys() >= rule.keys(), f"{rule['uid']}: {rule.keys() - again.keys()}"
            for query in rule["data"]:
                assert _round_trip(alerting.Query, query, set()).keys() >= query.keys()
    for point in stack_config.grafana_contact_points():
        for receiver in point["receivers"]:
            assert _round_trip(alerting.ContactPoint, receiver, set()).keys() >= receiver.keys()
    for policy in stack_config.grafana_policies():
        file_only = {"orgId"}
        assert _round_trip(alerting.NotificationPolicy, policy, file_only).keys() >= (
            policy.keys() - file_only
        )


def test_the_round_trip_catches_a_misspelt_key() -> None:
    [rule, *_] = (r for group in stack_config.grafana_rule_groups() for r in group["rules"])
    misspelt = {**rule, "noDataStat": "NoData"}
    assert "noDataStat" not in _round_trip(alerting.Rule, misspelt, set())
