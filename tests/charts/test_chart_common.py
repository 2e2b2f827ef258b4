"""What every component chart promises, checked on every scenario with helm v4 and v3."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from testkit import helm
from testkit.chart_checks import (
    CUSTOM_KINDS,
    POD_OWNERS,
    containers,
    pod_specs,
    run_checkov,
)
from testkit.tools import REPO_ROOT, require_tool

from .conftest import CASES, COMPONENT_CHARTS, Case

REQUIRED_LABELS = {
    "helm.sh/chart",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
}
PACKAGE_DIRS = {
    "fastdining-api": "services/fastdining-api",
    "airestaurant": "services/airestaurant",
    "discord-relay": "services/discord-relay",
    "sloalert-operator": "operator",
}
# Names of environment variables that carry a secret: they must come from a Secret.
SECRET_ENV_NAMES = {"SECRET_KEY", "DATABASE_URL", "DISCORD_WEBHOOK_URL", "RELAY_AUTH_TOKEN"}
# Keys a parent chart puts in a subchart's values: allowed by every schema, used by none.
PARENT_CHART_KEYS = ("global", "enabled")


def test_lint_strict(case: Case) -> None:
    values = [case.scenario] if case.scenario else []
    output = helm.lint(case.chart, helm=case.helm, values=values)
    assert "0 chart(s) failed" in output


def test_every_container_runs_restricted(case: Case) -> None:
    specs = list(pod_specs(case.render().documents))
    assert specs, "no workload rendered"
    for name, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in containers(spec):
            where = f"{name}/{container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["runAsUser"] == 10001, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, where
            mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{where}: no writable /tmp on a read-only root filesystem"
        # Only the operator talks to the Kubernetes API.
        assert spec["automountServiceAccountToken"] is (case.chart == "sloalert-operator"), name


def test_probes_on_real_endpoints(case: Case) -> None:
    for name, spec in pod_specs(case.render().documents):
        for container in spec["containers"]:
            ports = {port["name"]: port["containerPort"] for port in container["ports"]}
            for probe in ("livenessProbe", "readinessProbe"):
                http = container[probe]["httpGet"]
                assert http["path"] in {"/healthz", "/readyz"}, f"{name}: {probe}"
                assert http["port"] in ports, f"{name}: {probe} on an unnamed port"


@pytest.mark.parametrize(
    "v4_case", [case for case in CASES if case.helm == "helm"], ids=lambda case: case.id
)
def test_notes_render_in_every_scenario(v4_case: Case) -> None:
    """NOTES.txt renders for each scenario: helm v4's client-side dry run (v3's needs a cluster)."""
    case = v4_case
    values = [case.scenario] if case.scenario else []
    text = helm.notes(case.chart, values=values)
    [workload] = case.render().of_kind("Deployment")
    assert workload["metadata"]["name"] in text


def test_labels_and_selectors(case: Case) -> None:
    for doc in case.render().documents:
        if doc["kind"] == "CustomResourceDefinition":
            continue  # a byte-identical copy of the operator's CRD
        labels = doc["metadata"].get("labels", {})
        assert set(labels) >= REQUIRED_LABELS, f"{doc['kind']} {doc['metadata']['name']}"
        assert labels["app.kubernetes.io/part-of"] == "fastdining-observability"
        if doc["kind"] in POD_OWNERS:
            selector = doc["spec"]["selector"]["matchLabels"]
            assert set(selector) == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}
            assert selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items()


def _secret_values(documents: list[dict[str, Any]]) -> set[str]:
    values: set[str] = set()
    for doc in documents:
        if doc["kind"] == "Secret":
            values |= {base64.b64decode(v).decode() for v in doc.get("data", {}).values()}
            values |= set(doc.get("stringData", {}).values())
    return {value for value in values if value}


def test_no_secret_outside_secrets(case: Case) -> None:
    documents = case.render().documents
    secrets = _secret_values(documents)
    for doc in documents:
        if doc["kind"] == "Secret":
            continue
        where = f"{doc['kind']} {doc['metadata']['name']}"
        exposed = [json.dumps(doc["metadata"].get("annotations", {}))]
        if doc["kind"] == "ConfigMap":
            exposed.append(json.dumps(doc.get("data", {})))
        if doc["kind"] in POD_OWNERS:
            exposed.append(json.dumps(doc["spec"]["template"]["metadata"].get("annotations", {})))
        for _, spec in pod_specs([doc]):
            for container in containers(spec):
                for env in container.get("env", []):
                    if env["name"] in SECRET_ENV_NAMES:
                        assert "valueFrom" in env, f"{where}: {env['name']} is a literal value"
                    exposed.append(str(env.get("value", "")))
        for text in exposed:
            for secret in secrets:
                assert secret not in text, f"{where}: a Secret's value appears outside it"


def test_no_wildcards_in_rbac(case: Case) -> None:
    for doc in case.render().documents:
        for rule in doc.get("rules", []) if doc["kind"] in {"Role", "ClusterRole"} else []:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in rule.get(field, []), f"{doc['kind']}: {rule}"


def test_builtin_kinds_pass_kubernetes_validate_strict(case: Case) -> None:
    version = kubernetes_validate.latest_version()
    assert tuple(int(part) for part in version.split(".")[:2]) >= (1, 33)
    for doc in case.render().documents:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, version, strict=True)


def test_servicemonitors_match_prometheus_operators_schema(every_case: list[Case]) -> None:
    node = require_tool("node")
    inputs = [
        {"id": f"{case.id}:{doc['metadata']['name']}", "manifest": doc}
        for case in every_case
        for doc in case.render().of_kind("ServiceMonitor")
    ]
    assert inputs, "no ServiceMonitor rendered in any scenario"
    script = Path(__file__).with_name("servicemonitor_schema.mjs")
    if not (REPO_ROOT / "node_modules/@kubernetes-models/prometheus-operator").is_dir():
        pytest.fail("node_modules lacks @kubernetes-models/prometheus-operator: run `make setup`")
    result = subprocess.run(
        [str(node), str(script)],
        input=json.dumps(inputs),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=REPO_ROOT,
    )
    failures = [r for r in json.loads(result.stdout) if r["error"]]
    assert len(json.loads(result.stdout)) == len(inputs)
    assert not failures, failures


def test_the_schema_validator_refuses_a_bad_servicemonitor() -> None:
    """The ServiceMonitor check can fail: a bad interval and a numeric port are refused."""
    node = require_tool("node")
    bad = {
        "metadata": {"name": "bad"},
        "spec": {"selector": {}, "endpoints": [{"port": 8000, "interval": "soon"}]},
    }
    result = subprocess.run(
        [str(node), str(Path(__file__).with_name("servicemonitor_schema.mjs"))],
        input=json.dumps([{"id": "bad", "manifest": bad}]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=REPO_ROOT,
    )
    [answer] = json.loads(result.stdout)
    assert "interval" in answer["error"] and "port" in answer["error"]


def test_checkov_passes_on_every_scenario(every_case: list[Case], tmp_path: Path) -> None:
    """One checkov run over every scenario's output (helm v4; v3 renders the same objects)."""
    for case in every_case:
        if case.helm == "helm":
            (tmp_path / f"{case.id.replace(':', '_')}.yaml").write_text(case.render().text)
    report = run_checkov(tmp_path)
    assert not report.failed, "\n".join(report.failed)
    assert report.passed > 0, "checkov checked nothing"


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
@pytest.mark.parametrize("chart", COMPONENT_CHARTS)
def test_values_schema_allows_a_parent_charts_keys(chart: str, binary: str) -> None:
    """A parent chart passes `global`, and its `<chart>.enabled` condition, to the subchart."""
    parents = {"global.imageRegistry": "registry.example", "enabled": True}
    helm.render(chart, helm=binary, sets=parents)


@pytest.mark.parametrize("chart", COMPONENT_CHARTS)
def test_app_version_is_the_package_version(chart: str) -> None:
    meta = yaml.safe_load((helm.chart_path(chart) / "Chart.yaml").read_text())
    project = tomllib.loads((REPO_ROOT / PACKAGE_DIRS[chart] / "pyproject.toml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["appVersion"] == project["project"]["version"]
    values = yaml.safe_load((helm.chart_path(chart) / "values.yaml").read_text())
    assert values["image"]["pullPolicy"] == "IfNotPresent"
    assert values["image"]["tag"] == ""  # the default tag is appVersion


def _readme_generator() -> Path:
    generator = REPO_ROOT / "node_modules/.bin/readme-generator"
    if not generator.exists():
        pytest.fail("node_modules lacks @bitnami/readme-generator-for-helm: run `make setup`")
    require_tool("node")
    return generator


@pytest.mark.parametrize("chart", COMPONENT_CHARTS)
def test_readme_table_is_generated_from_values(chart: str, tmp_path: Path) -> None:
    readme = helm.chart_path(chart) / "README.md"
    copy = tmp_path / "README.md"
    shutil.copy(readme, copy)
    subprocess.run(
        [str(_readme_generator()), "--values", str(helm.chart_path(chart) / "values.yaml"),
         "--readme", str(copy), "--schema", str(tmp_path / "schema.json")],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert copy.read_text() == readme.read_text(), f"{readme} is stale: run `make chart-docs`"
    generated = _leaf_types(json.loads((tmp_path / "schema.json").read_text()))
    ours = _leaf_types(json.loads((helm.chart_path(chart) / "values.schema.json").read_text()))
    for parents_key in PARENT_CHART_KEYS:
        ours.pop(parents_key)
    # The generator leaves `{}` defaults out of its schema: the keys come from the comments.
    values_text = (helm.chart_path(chart) / "values.yaml").read_text()
    params = set(re.findall(r"^## @param (\S+)", values_text, re.MULTILINE))
    assert set(ours) == params, f"{chart}: values.schema.json and the @param comments differ"
    for path, kinds in generated.items():
        assert kinds <= ours[path], f"{chart}: {path} is {ours[path]} in the schema, not {kinds}"


def _leaf_types(schema: dict[str, Any]) -> dict[str, set[str]]:
    """Each leaf value's dotted path and JSON types (integer counts as number, as the generator
    infers types from defaults); `$ref`s inlined."""
    root = schema

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def walk(node: dict[str, Any], prefix: str) -> Iterator[tuple[str, set[str]]]:
        for key, child in node.get("properties", {}).items():
            child = resolve(child)
            if child.get("properties"):
                yield from walk(child, f"{prefix}{key}.")
                continue
            kinds = child.get("type", [])
            kinds = {kinds} if isinstance(kinds, str) else set(kinds)
            yield f"{prefix}{key}", {"number" if kind == "integer" else kind for kind in kinds}

    return dict(walk(schema, ""))
