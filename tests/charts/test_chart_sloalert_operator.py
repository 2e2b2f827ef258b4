"""The sloalert-operator chart: the CRD copy, RBAC equal to the operator's own table, settings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from testkit import helm
from testkit.tools import REPO_ROOT

CHART = "sloalert-operator"
CRD = "slo.fastdining.dev_sloalerts.yaml"
# Rules a Role cannot grant (cluster-scoped resources) or kopf needs only when watching all.
CLUSTER_ONLY = {("", "namespaces"), ("apiextensions.k8s.io", "customresourcedefinitions")}

Rule = tuple[str, str, frozenset[str]]


def operator_rbac_table() -> set[Rule]:
    """The RBAC table of operator/README.md: (API group, resource, verbs) per row."""
    readme = (REPO_ROOT / "operator/README.md").read_text()
    section = readme.split("### RBAC", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([^`]*)` \| `([^`]+)` \| ([^|]+) \|", section, re.MULTILINE)
    assert rows, "no RBAC table found in operator/README.md"
    return {
        (group.strip('"'), resource, frozenset(v.strip() for v in verbs.split(",")))
        for group, resource, verbs in rows
    }


def rules_of(role: dict[str, Any]) -> set[Rule]:
    found: set[Rule] = set()
    for rule in role["rules"]:
        assert len(rule["apiGroups"]) == 1 and len(rule["resources"]) == 1, rule
        found.add((rule["apiGroups"][0], rule["resources"][0], frozenset(rule["verbs"])))
    return found


def env_of(rendered: helm.Rendered) -> dict[str, str]:
    [container] = rendered.one("Deployment")["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_crd_is_a_byte_identical_copy_of_the_operators() -> None:
    copy = helm.chart_path(CHART) / "crds" / CRD
    assert copy.read_bytes() == (REPO_ROOT / "operator/crds" / CRD).read_bytes(), (
        f"{copy} differs from operator/crds/{CRD}: copy it again"
    )
    rendered = helm.render(CHART)  # include_crds: helm installs it from crds/
    assert rendered.one("CustomResourceDefinition")["metadata"]["name"] == (
        "sloalerts.slo.fastdining.dev"
    )


def test_cluster_role_has_exactly_the_operators_rules() -> None:
    rendered = helm.render(CHART)
    role = rendered.one("ClusterRole")
    assert rules_of(role) == operator_rbac_table()
    binding = rendered.one("ClusterRoleBinding")
    account = rendered.one("ServiceAccount")["metadata"]["name"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": "default"}
    ]
    assert rendered.of_kind("Role") == []
    assert env_of(rendered)["SLOALERT_NAMESPACES"] == ""


def test_every_rule_says_why() -> None:
    """One comment line right above each rule in the templates (the operator README's reasons)."""
    sources = [
        (helm.chart_path(CHART) / "templates" / name).read_text().splitlines()
        for name in ("_helpers.tpl", "rbac.yaml")
    ]
    rules = 0
    for lines in sources:
        for index, line in enumerate(lines):
            if line.lstrip().startswith("- apiGroups:"):
                rules += 1
                assert lines[index - 1].lstrip().startswith("#"), f"no comment above: {line}"
    assert rules == len(operator_rbac_table())


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
def test_watched_namespaces_get_a_role_each_and_no_cluster_role(binary: str) -> None:
    rendered = helm.render(CHART, helm=binary, sets={"watchNamespaces": "{apps,web}"})
    assert rendered.of_kind("ClusterRole") == [] and rendered.of_kind("ClusterRoleBinding") == []
    roles = rendered.of_kind("Role")
    assert sorted(role["metadata"]["namespace"] for role in roles) == ["apps", "web"]
    namespaced = {rule for rule in operator_rbac_table() if rule[:2] not in CLUSTER_ONLY}
    for role in roles:
        assert rules_of(role) == namespaced
    bindings = rendered.of_kind("RoleBinding")
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["apps", "web"]
    assert env_of(rendered)["SLOALERT_NAMESPACES"] == "apps,web"


def test_rule_labels_prometheus_url_and_extra_env_reach_the_operator() -> None:
    rendered = helm.render(
        CHART,
        namespace="monitoring",
        sets={
            "ruleLabels.release": "kps",
            "prometheus.url": "http://prometheus-operated.{{ .Release.Namespace }}.svc:9090",
            "extraEnv[0].name": "SLOALERT_LISTEN_HOST",
            "extraEnv[0].value": "0.0.0.0",
        },
    )
    env = env_of(rendered)
    assert env["SLOALERT_RULE_LABELS"] == '{"release":"kps"}'
    assert env["SLOALERT_PROMETHEUS_URL"] == "http://prometheus-operated.monitoring.svc:9090"
    assert env["SLOALERT_LISTEN_HOST"] == "0.0.0.0"
    assert "SLOALERT_PROMETHEUS_URL" not in env_of(helm.render(CHART))


def test_the_operator_accepts_the_rendered_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's own settings loader reads the chart's env (names and formats agree)."""
    from sloalert.operator.settings import load_settings

    sets = {
        "watchNamespaces": "{apps,web}",
        "ruleLabels.release": "kps",
        "logFormat": "text",
        "prometheus.url": "http://prometheus-operated.{{ .Release.Namespace }}.svc:9090",
    }
    for name, value in env_of(helm.render(CHART, namespace="mon", sets=sets)).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.prometheus_url == "http://prometheus-operated.mon.svc:9090"
    assert settings.namespaces == ("apps", "web")
    assert settings.rule_labels == {"release": "kps"}
    assert (settings.metrics_port, settings.health_port) == (8080, 8081)
    assert settings.log_format == "text"


def test_one_replica_recreated_probed_on_kopfs_liveness_endpoint() -> None:
    rendered = helm.render(CHART)
    deployment = rendered.one("Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    service = rendered.one("Service")
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    monitor = rendered.one("ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


def test_notes_follow_the_mode() -> None:
    assert "every namespace (a ClusterRole)" in helm.notes(CHART)
    assert "apps, web" in helm.notes(CHART, sets={"watchNamespaces": "{apps,web}"})
    assert "grant its ServiceAccount" in helm.notes(CHART, sets={"rbac.create": False})


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
@pytest.mark.parametrize(
    ("sets", "named"),
    [
        ({"replicaCount": "1"}, "replicaCount"),
        ({"replicaCount": 2}, "replicaCount"),  # two standalone kopf operators: never
        ({"namespaces": "{apps}"}, "namespaces"),  # the operator's env name, not the value's
        ({"watchNamespaces": "{Apps_1}"}, "watchNamespaces"),
        ({"logFormat": "yaml"}, "logFormat"),
        ({"ruleLabels.bad key": "x"}, "bad key"),  # helm v4 places it oddly, names it
    ],
)
def test_wrong_values_are_refused_by_name(sets: dict, named: str, binary: str) -> None:
    helm.assert_refused(CHART, binary, sets, named)
