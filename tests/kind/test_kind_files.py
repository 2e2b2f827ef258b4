"""The kind path's files agree with each other and with the charts, without a cluster:

- the cluster config publishes nothing beyond 127.0.0.1 and names no node image of its own: the
  one table of kind releases and their node images (fdc_make.kind_release) does, pinned by digest,
  and the oldest kind it accepts is the one scripts/tools.txt asks for;
- the install commands have one source, fdc_make.kind, and fdc-stack's README quotes them;
- the release, namespace, Services and stand-in image named in several files are the same;
- the workflows run on ubuntu-24.04, their steps are Makefile targets, and every action is pinned
  by a 40-hex commit SHA with its tag beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fdc_make import images, kind, kind_release, prerequisites
from testkit.tools import REPO_ROOT, tool_specs, tool_version

CLUSTER_CONFIG = REPO_ROOT / kind.CLUSTER_CONFIG
NAMESPACES = REPO_ROOT / "manifests" / "namespaces.yaml"
UMBRELLA = REPO_ROOT / "charts" / "fdc-stack"
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
E2E = REPO_ROOT / "tests" / "e2e"


def _makefile_targets() -> set[str]:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.MULTILINE))


def _workflow(name: str) -> dict:
    return yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def install_commands() -> list[str]:
    return [
        *kind.INSTALL_DEPENDENCIES,
        *kind.CREATE_NAMESPACES,
        *kind.INSTALL_LOG_SINK,
        *kind.INSTALL_WITH_WEBHOOK,
    ]


def test_the_cluster_stays_on_loopback_and_names_no_node_image_of_its_own() -> None:
    config = yaml.safe_load(CLUSTER_CONFIG.read_text(encoding="utf-8"))
    assert config["kind"] == "Cluster"
    assert config["name"] == kind.cluster_name()
    assert config["networking"]["apiServerAddress"] == "127.0.0.1"
    for node in config["nodes"]:
        assert "image" not in node, "the node image lives in fdc_make/kind_release.py alone"
        for mapping in node.get("extraPortMappings", []):
            assert mapping.get("listenAddress") == "127.0.0.1", mapping


def test_every_kind_release_has_its_node_image_pinned_by_digest() -> None:
    assert kind_release.MINIMUM == (0, 32), "0.32 is the oldest kind that merges extraArgs lists"
    for release, image in kind_release.NODE_IMAGES.items():
        assert re.fullmatch(r"kindest/node:v1\.36\.\d+@sha256:[0-9a-f]{64}", image), release
    assert len(set(kind_release.NODE_IMAGES.values())) == len(kind_release.NODE_IMAGES)


def test_the_node_image_follows_the_kind_that_runs_it() -> None:
    assert kind_release.node_image((0, 33, 0)) == kind_release.NODE_IMAGES[(0, 33)]
    assert kind_release.node_image((0, 32, 1)) == kind_release.NODE_IMAGES[(0, 32)]
    with pytest.raises(kind_release.UnknownKindRelease, match=r"older than 0\.32"):
        kind_release.node_image((0, 31, 0))
    with pytest.raises(kind_release.UnknownKindRelease, match=r"kind_release\.py"):
        kind_release.node_image((0, 99, 0))


def test_make_setup_asks_for_the_kind_the_kind_path_accepts() -> None:
    """The two places that say which kind fits cannot drift apart."""
    assert tool_specs()["kind"].minimum == kind_release.MINIMUM


@pytest.mark.parametrize("name", sorted(prerequisites.BY_NAME))
def test_what_install_tools_puts_in_place_is_what_the_kind_path_accepts(name: str) -> None:
    """The kind path installs an absent prerequisite with install-tools.sh, then looks again: every
    version tools.txt lets through must fit, or `make up` would install it and still refuse it."""
    wanted, spec = prerequisites.BY_NAME[name], tool_specs()[name]
    assert spec.minimum >= wanted.minimum, (name, spec.minimum, wanted.minimum)
    if wanted.below is not None:
        assert spec.below is not None and spec.below <= wanted.below, (name, spec.below)


def test_the_namespace_enforces_restricted_and_matches_the_install() -> None:
    namespaces = {
        doc["metadata"]["name"]: doc["metadata"]["labels"]
        for doc in yaml.safe_load_all(NAMESPACES.read_text(encoding="utf-8"))
    }
    assert namespaces[kind.NAMESPACE]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert kind.NODE_EXPORTER_NAMESPACE in namespaces
    helm_installs = [line for line in install_commands() if "helm upgrade --install" in line]
    assert len(helm_installs) == 2, helm_installs
    for line in helm_installs:
        assert re.match(
            rf"helm upgrade --install {kind.RELEASE} charts/fdc-stack "
            rf"(-n|--namespace) {kind.NAMESPACE}( |$)",
            line,
        ), line


def test_the_umbrella_readme_quotes_every_install_command() -> None:
    commands = install_commands()
    assert any(line.startswith("helm dependency build charts/fdc-stack") for line in commands)
    # A command may wrap over lines in the README (`\` at the end of a line).
    text = (UMBRELLA / "README.md").read_text(encoding="utf-8")
    readme = " ".join(re.sub(r"\\\n\s*", " ", text).split())
    missing = [line for line in commands if " ".join(line.split()) not in readme]
    assert not missing, f"charts/fdc-stack/README.md does not quote: {missing}"


def test_port_forwards_name_the_services_the_notes_name() -> None:
    notes = (UMBRELLA / "templates" / "NOTES.txt").read_text(encoding="utf-8")
    assert "svc/{{ .Release.Name }}-grafana 3000:80" in notes
    assert kind.FORWARDS["grafana"] == (f"svc/{kind.RELEASE}-grafana", 3000, 80)
    for service, port in (("prometheus-operated", 9090), ("alertmanager-operated", 9093)):
        assert f"port-forward svc/{service} {port}" in notes
    assert kind.FORWARDS["prometheus"] == ("svc/prometheus-operated", 9090, 9090)
    assert kind.FORWARDS["alertmanager"] == ("svc/alertmanager-operated", 9093, 9093)


def test_the_stand_in_image_is_named_once_and_alike() -> None:
    manifest = list(yaml.safe_load_all((E2E / "discord-standin.yaml").read_text(encoding="utf-8")))
    containers = manifest[0]["spec"]["template"]["spec"]["containers"]
    assert [container["image"] for container in containers] == [kind.STANDIN_IMAGE]
    assert (REPO_ROOT / kind.STANDIN_DOCKERFILE).is_file()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_workflows_run_on_ubuntu_24_04_and_pin_every_action_by_sha(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    for job in document["jobs"].values():
        assert job["runs-on"] == "ubuntu-24.04"
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    # The tag each SHA stands for, beside it (what a reader and an updater need).
    for line in re.findall(r"^\s*-?\s*uses:.*$", text, re.MULTILINE):
        assert re.search(r"@[0-9a-f]{40} # v\d+(\.\d+)*$", line), line


@pytest.mark.parametrize("name", ["ci.yml", "e2e.yml"])
def test_ci_and_e2e_steps_are_makefile_targets(name: str) -> None:
    targets = _makefile_targets()
    for job in _workflow(name)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                continue
            words = step["run"].split()
            assert words[0] == "make" and len(words) == 2, step
            assert words[1] in targets, f"{name} runs make {words[1]}, no such target"


def test_the_workflows_cover_lint_test_and_e2e_on_both_helms() -> None:
    def runs(name: str) -> list[str]:
        jobs = _workflow(name)["jobs"].values()
        return [step.get("run") for job in jobs for step in job["steps"]]

    assert {"make setup", "make lint", "make test"} <= set(runs("ci.yml"))
    assert "make e2e" in runs("e2e.yml")
    e2e = _workflow("e2e.yml")["jobs"]["kind"]
    assert {entry["helm"] for entry in e2e["strategy"]["matrix"]["include"]} == {"helm", "helm3"}
    assert e2e["env"]["HELM"] == "${{ matrix.helm }}"
    # Images built once per job, their layers cached between runs.
    assert e2e["env"]["BUILDX_CACHE"] == "gha"
    assert images.cache_flags("x") == []


def test_the_release_workflow_publishes_through_make_on_a_version_tag() -> None:
    release = _workflow("release.yml")
    assert release[True]["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+"]  # yaml reads `on` as True
    job = release["jobs"]["publish"]
    assert job["permissions"] == {"contents": "write", "packages": "write", "id-token": "write"}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    targets = _makefile_targets()
    for run in runs[:-1]:
        assert run.split()[0] == "make" and run.split()[1] in targets, run
    assert runs[0].startswith("make release-check VERSION=")
    assert runs[1].startswith("make release VERSION=")
    assert runs[-1].startswith("gh release create")
    actions = {step["uses"].split("@")[0] for step in job["steps"] if "uses" in step}
    assert {"sigstore/cosign-installer", "docker/setup-qemu-action"} <= actions


def test_make_up_points_the_charts_at_the_images_it_loaded() -> None:
    values = yaml.safe_load(images.local_images_values("1.2.3"))
    assert set(values) == set(kind.IMAGE_DOCKERFILES)
    for component, settings in values.items():
        image = settings["image"]
        reference = "/".join(filter(None, (image.get("registry"), image["repository"])))
        assert f"{reference}:{image['tag']}" == images.local_image(component, "1.2.3")
        assert not reference.startswith("ghcr.io"), "a local build is never the published name"


def test_the_readme_names_only_targets_the_makefile_has() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", readme))
    assert {"up", "test", "local", "grafana", "e2e", "down", "env", "template"} <= named
    missing = named - _makefile_targets()
    assert not missing, f"README.md names make targets that do not exist: {missing}"


def test_make_help_lists_every_target_a_readme_names() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    helped = set(re.findall(r"^([a-z0-9-]+):.*## ", makefile, re.MULTILINE))
    named: set[str] = set()
    for readme in REPO_ROOT.glob("**/README.md"):
        if not {".tools", ".venv", "node_modules"} & set(readme.parts):
            named |= set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", readme.read_text("utf-8")))
    missing = (named & _makefile_targets()) - helped
    assert not missing, f"make help does not list: {missing}"


@pytest.mark.integration
def test_the_kind_make_setup_installs_has_its_node_image() -> None:
    """When Debian moves kind to a release the table does not know, this fails here first."""
    kind_version = tool_version("kind")
    assert tool_specs()["kind"].fits(kind_version)
    assert kind_release.node_image(kind_version).startswith("kindest/node:v1.36.")
