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
    prometheus_operator_errors,
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
    manifests = {
        f"{case.id}:{doc['metadata']['name']}": doc
        for case in every_case
        for doc in case.render().of_kind("ServiceMonitor")
    }
    assert manifests, "no ServiceMonitor rendered in any scenario"
    errors = prometheus_operator_errors(manifests)
    assert set(errors) == set(manifests)
    assert not {key: error for key, error in errors.items() if error}


def test_the_schema_validator_refuses_a_bad_servicemonitor() -> None:
    """The ServiceMonitor check can fail: a bad interval and a numeric port are refused."""
    bad = {
        "metadata": {"name": "bad"},
        "spec": {"selector": {}, "endpoints": [{"port": 8000, "interval": "soon"}]},
    }
    error = prometheus_operator_errors({"bad": bad})["bad"]
    assert error and "interval" in error and "port" in error


def test_servicemonitors_bound_what_one_scrape_may_store(case: Case) -> None:
    """sampleLimit and labelLimit are set by default, from values (issue 24, finding 6)."""
    values = yaml.safe_load((helm.chart_path(case.chart) / "values.yaml").read_text())
    for monitor in case.render().of_kind("ServiceMonitor"):
        assert monitor["spec"]["sampleLimit"] == values["serviceMonitor"]["sampleLimit"] > 0
        assert monitor["spec"]["labelLimit"] == values["serviceMonitor"]["labelLimit"] > 0


def test_network_policies_name_real_ports_and_never_admit_everyone(case: Case) -> None:
    """Each rendered NetworkPolicy selects this chart's pods, names only ports those pods
    declare, and has no rule with an empty `from` (which would admit every source)."""
    rendered = case.render()
    for policy in rendered.of_kind("NetworkPolicy"):
        [workload] = [d for d in rendered.documents if d["kind"] in POD_OWNERS]
        template = workload["spec"]["template"]
        assert (
            policy["spec"]["podSelector"]["matchLabels"]
            == workload["spec"]["selector"]["matchLabels"]
        )
        ports = {p["name"] for c in containers(template["spec"]) for p in c.get("ports", [])}
        for rule in policy["spec"]["ingress"]:
            assert rule["from"], f"{case.id}: an ingress rule without peers admits everyone"
            assert {port["port"] for port in rule["ports"]} <= ports, case.id


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
    # The published image (the release workflow pushes ghcr.io/fastdining/<chart>:<version>).
    assert (values["image"]["registry"], values["image"]["repository"]) == (
        "ghcr.io",
        f"fastdining/{chart}",
    )
    [deployment] = helm.render(chart).of_kind("Deployment")
    images = {c["image"] for c in containers(deployment["spec"]["template"]["spec"])}
    assert images == {f"ghcr.io/fastdining/{chart}:{meta['appVersion']}"}


DIGEST = "sha256:" + "ab" * 32
IMAGE_CASES = {
    "a parent's registry wins": ({"global.imageRegistry": "mirror.example"}, "mirror.example/R:V"),
    "no registry": ({"image.registry": ""}, "R:V"),
    "a digest replaces the tag": ({"image.digest": DIGEST}, f"ghcr.io/R@{DIGEST}"),
    "a tag of one's own": ({"image.tag": "dev"}, "ghcr.io/R:dev"),
}


@pytest.mark.parametrize("image_case", IMAGE_CASES, ids=list(IMAGE_CASES))
@pytest.mark.parametrize("chart", COMPONENT_CHARTS)
def test_the_image_reference_follows_bitnamis_keys(chart: str, image_case: str) -> None:
    """registry (or `global.imageRegistry`), repository, and the digest or else the tag (the
    chart's appVersion when empty); R and V stand for the default repository and appVersion."""
    sets, expected = IMAGE_CASES[image_case]
    meta = yaml.safe_load((helm.chart_path(chart) / "Chart.yaml").read_text())
    values = yaml.safe_load((helm.chart_path(chart) / "values.yaml").read_text())
    wanted = expected.replace("R", values["image"]["repository"]).replace("V", meta["appVersion"])
    [deployment] = helm.render(chart, sets=sets).of_kind("Deployment")
    images = {c["image"] for c in containers(deployment["spec"]["template"]["spec"])}
    assert images == {wanted}


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
    ours = {k: v for k, v in ours.items() if k.split(".")[0] not in PARENT_CHART_KEYS}
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


def _define(chart: str, name: str) -> str:
    """The definition `{{- define "<chart>.<name>" -}}` in the chart's _helpers.tpl, up to the
    blank line after it, with the chart's own name replaced by CHART."""
    helpers = (helm.chart_path(chart) / "templates" / "_helpers.tpl").read_text()
    start = '{{- define "' + chart + "." + name + '" -}}\n'
    assert start in helpers, f"{chart}: no {name} definition"
    body = helpers.split(start, 1)[1].split("\n\n", 1)[0]
    assert body.endswith("{{- end }}"), body
    return body.replace(chart, "CHART")


@pytest.mark.parametrize(
    "copy", ["templates/networkpolicy.yaml", "define image"], ids=["networkpolicy", "image"]
)
def test_the_charts_shared_templates_are_one_text(copy: str) -> None:
    """The four charts stand alone (each is published on its own), so a few templates exist
    once per chart: the copies must stay one text but for the chart's name."""
    if copy.startswith("define "):
        texts = {chart: _define(chart, copy.split()[1]) for chart in COMPONENT_CHARTS}
    else:
        texts = {
            chart: (helm.chart_path(chart) / copy).read_text().replace(chart, "CHART")
            for chart in COMPONENT_CHARTS
        }
    assert len(set(texts.values())) == 1, {chart: text[:300] for chart, text in texts.items()}
