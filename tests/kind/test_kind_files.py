"""The kind path's files agree with each other and with the charts, without a cluster:

- the cluster config pins its node image by digest and publishes nothing beyond 127.0.0.1;
- the install commands have one source, scripts/kind.sh, and fdc-stack's README quotes them;
- the release, namespace, Services and stand-in image named in several files are the same;
- the workflows' steps are Makefile targets, and every target they name exists;
- scripts/chart_image.py gives the image a chart's templates pull.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from testkit.tools import REPO_ROOT

KIND_SH = REPO_ROOT / "scripts" / "kind.sh"
CLUSTER_CONFIG = REPO_ROOT / "manifests" / "kind" / "cluster.yaml"
NAMESPACES = REPO_ROOT / "manifests" / "namespaces.yaml"
UMBRELLA = REPO_ROOT / "charts" / "fdc-stack"
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
E2E = REPO_ROOT / "tests" / "e2e"


def _load_chart_image() -> object:
    """scripts/chart_image.py is a script, not a package module: load it from its path."""
    spec = importlib.util.spec_from_file_location(
        "chart_image", REPO_ROOT / "scripts" / "chart_image.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.chart_image


chart_image = _load_chart_image()


def _script() -> str:
    return KIND_SH.read_text(encoding="utf-8")


def _assignment(name: str) -> str:
    match = re.search(rf"^{name}=(\S+)$", _script(), re.MULTILINE)
    assert match is not None, f"scripts/kind.sh sets no {name}"
    return match.group(1)


def install_commands() -> list[str]:
    """The command lines between scripts/kind.sh's BEGIN/END install commands markers."""
    block = re.search(
        r"^# BEGIN install commands.*?\n(.*?)^# END install commands", _script(), re.M | re.S
    )
    assert block is not None, "scripts/kind.sh has no install commands block"
    lines = [line.strip() for line in block.group(1).splitlines()]
    return [
        line
        for line in lines
        if line and not line.startswith("#") and not line.endswith("{") and line != "}"
    ]


def test_the_node_image_is_pinned_by_digest_and_ports_stay_on_loopback() -> None:
    config = yaml.safe_load(CLUSTER_CONFIG.read_text(encoding="utf-8"))
    assert config["kind"] == "Cluster"
    assert config["networking"]["apiServerAddress"] == "127.0.0.1"
    for node in config["nodes"]:
        assert re.fullmatch(r"kindest/node:v1\.36\.\d+@sha256:[0-9a-f]{64}", node["image"])
        for mapping in node.get("extraPortMappings", []):
            assert mapping.get("listenAddress") == "127.0.0.1", mapping
    assert "release notes" in CLUSTER_CONFIG.read_text(encoding="utf-8"), "say where it is from"


def test_the_namespace_enforces_restricted_and_matches_the_install() -> None:
    namespaces = {
        doc["metadata"]["name"]: doc["metadata"]["labels"]
        for doc in yaml.safe_load_all(NAMESPACES.read_text(encoding="utf-8"))
    }
    namespace = _assignment("NAMESPACE")
    assert namespaces[namespace]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert _assignment("NODE_EXPORTER_NAMESPACE") in namespaces
    release = _assignment("RELEASE")
    helm_installs = [line for line in install_commands() if "helm upgrade --install" in line]
    assert len(helm_installs) == 2, helm_installs
    for line in helm_installs:
        assert re.match(
            rf"helm upgrade --install {release} charts/fdc-stack (-n|--namespace) {namespace}( |$)",
            line,
        ), line
    e2e = (E2E / "cluster.py").read_text(encoding="utf-8")
    assert f'RELEASE = "{release}"' in e2e


def test_the_umbrella_readme_quotes_every_install_command() -> None:
    commands = install_commands()
    assert any(line.startswith("helm dependency build charts/fdc-stack") for line in commands)
    readme_path = UMBRELLA / "README.md"
    assert readme_path.is_file(), "charts/fdc-stack/README.md is missing"
    # A command may wrap over lines in the README (`\` at the end of a line).
    readme = " ".join(re.sub(r"\\\n\s*", " ", readme_path.read_text(encoding="utf-8")).split())
    missing = [line for line in commands if " ".join(line.split()) not in readme]
    assert not missing, f"charts/fdc-stack/README.md does not quote: {missing}"


def test_port_forwards_name_the_services_the_notes_name() -> None:
    notes = (UMBRELLA / "templates" / "NOTES.txt").read_text(encoding="utf-8")
    script = _script()
    assert "svc/{{ .Release.Name }}-grafana 3000:80" in notes
    assert "service=svc/$RELEASE-grafana port=${PORT:-3000} target=80" in script
    for service, port in (("prometheus-operated", 9090), ("alertmanager-operated", 9093)):
        assert f"port-forward svc/{service} {port}" in notes
        assert f"service=svc/{service} port=${{PORT:-{port}}} target={port}" in script


def test_the_stand_in_image_is_named_once_per_file_and_alike() -> None:
    image = _assignment("STANDIN_IMAGE")
    manifest = list(yaml.safe_load_all((E2E / "discord-standin.yaml").read_text(encoding="utf-8")))
    containers = manifest[0]["spec"]["template"]["spec"]["containers"]
    assert [container["image"] for container in containers] == [image]
    assert f'"{image}"' in (E2E / "conftest.py").read_text(encoding="utf-8")
    assert (REPO_ROOT / _assignment("STANDIN_DOCKERFILE")).is_file()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_workflow_steps_are_makefile_targets(workflow: Path) -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.MULTILINE))
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    for job in document["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert step["uses"].split("@")[0] in {"actions/checkout", "actions/setup-python"}
                continue
            words = step["run"].split()
            assert words[0] == "make" and len(words) == 2, step
            assert words[1] in targets, f"{workflow.name} runs make {words[1]}, no such target"


def test_the_workflows_cover_lint_test_and_e2e_on_both_helms() -> None:
    runs = {
        path.name: [
            step.get("run") for job in yaml.safe_load(path.read_text())["jobs"].values()
            for step in job["steps"]
        ]
        for path in WORKFLOWS
    }  # fmt: skip
    assert {"make lint", "make test"} <= set(runs["ci.yml"])
    assert "make e2e" in runs["e2e.yml"]
    e2e = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "e2e.yml").read_text())
    helms = {entry["helm"] for entry in e2e["jobs"]["kind"]["strategy"]["matrix"]["include"]}
    assert helms == {"helm", "helm3"}
    assert e2e["jobs"]["kind"]["env"]["HELM"] == "${{ matrix.helm }}"


def _chart(tmp_path: Path, values: str, app_version: str = '"1.2.3"') -> Path:
    chart = tmp_path / "demo"
    chart.mkdir()
    (chart / "Chart.yaml").write_text(f"name: demo\nappVersion: {app_version}\n")
    (chart / "values.yaml").write_text(values)
    return tmp_path


def test_chart_image_takes_the_tag_or_else_the_app_version(tmp_path: Path) -> None:
    charts = _chart(tmp_path, "image:\n  repository: fastdining/demo\n  tag: ''\n")
    assert chart_image("demo", charts) == "fastdining/demo:1.2.3"
    (charts / "demo" / "values.yaml").write_text("image: {repository: x/demo, tag: '9'}\n")
    assert chart_image("demo", charts) == "x/demo:9"
    (charts / "demo" / "values.yaml").write_text("image: {tag: '9'}\n")
    with pytest.raises(ValueError, match=r"no image\.repository"):
        chart_image("demo", charts)


def test_every_component_image_is_fastdining_name_app_version() -> None:
    for chart in ("fastdining-api", "airestaurant", "discord-relay", "sloalert-operator"):
        version = yaml.safe_load((REPO_ROOT / "charts" / chart / "Chart.yaml").read_text())
        assert chart_image(chart) == f"fastdining/{chart}:{version['appVersion']}"


def test_the_readme_names_only_targets_the_makefile_has() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", readme))
    assert {"up", "test", "local", "grafana", "e2e", "down"} <= named
    assert not named - targets, f"README.md names make targets that do not exist: {named - targets}"
