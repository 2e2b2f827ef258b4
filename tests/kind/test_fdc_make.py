"""The kind path's logic in process (fdc_make: Python, so it runs alike on Linux and on macOS,
whose bash 3.2 the former script could not run): prerequisites found on PATH first with their
versions checked, only absent ones installed, a message naming each one that is missing; the
commands' parsing; `make template`'s offline path; the one-version rule and the release listing.

Tools are stand-ins here (scripts printing a version): what is under test is how they are chosen.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fdc_make import (
    cli,
    images,
    kind,
    kind_release,
    prerequisites,
    release,
    stack,
    template,
    versions,
)
from testkit.tools import REPO_ROOT, require_tool


def _tool(directory: Path, name: str, prints: str) -> Path:
    """A stand-in command that prints `prints` (as `kind version` would)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{prints}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(the user's PATH folder, .tools/bin)."""
    return tmp_path / "user-bin", tmp_path / "tools-bin"


def test_a_fitting_tool_on_path_is_used_and_nothing_installed(dirs: tuple[Path, Path]) -> None:
    user, tools = dirs
    _tool(user, "kind", "kind v0.33.0 go1.27.2 linux/amd64")
    _tool(tools, "kind", "kind v0.32.0 go1.26 linux/amd64")
    installed: list[list[str]] = []
    resolved = prerequisites.resolve(
        ["kind"], tools, installed.append, path=f"{user}:{tools}", installable_here=True
    )
    assert resolved.paths == {"kind": user / "kind"}
    assert installed == []


def test_only_the_absent_tools_are_installed(dirs: tuple[Path, Path]) -> None:
    user, tools = dirs
    _tool(user, "kubectl", "Client Version: v1.37.1")
    installed: list[list[str]] = []

    def install(names: list[str]) -> None:
        installed.append(names)
        _tool(tools, "kind", "kind v0.33.0")
        _tool(tools, "helm", "v4.3.1+gc0d08d0")

    resolved = prerequisites.resolve(
        ["kind", "kubectl", "helm"], tools, install, path=str(user), installable_here=True
    )
    assert installed == [["kind", "helm"]]
    assert resolved.paths == {
        "kind": tools / "kind",
        "kubectl": user / "kubectl",
        "helm": tools / "helm",
    }


def test_a_too_old_tool_is_named_with_how_to_get_it(dirs: tuple[Path, Path]) -> None:
    user, tools = dirs
    _tool(user, "kind", "kind v0.31.0 go1.25 linux/amd64")
    _tool(user, "helm", "v3.12.0+gabc")
    with pytest.raises(prerequisites.Missing) as missing:
        prerequisites.resolve(
            ["kind", "helm", "kubectl"], tools, lambda _: None, str(user), installable_here=False
        )
    message = str(missing.value)
    assert f"kind at {user / 'kind'} is 0.31.0; the kind path needs 0.32 or later" in message
    assert f"helm at {user / 'helm'} is 3.12.0; the kind path needs 3.17 or later" in message
    assert "kubectl is not on PATH: get kubectl 1.30 or later" in message


def test_helm3_must_be_helm_v3(dirs: tuple[Path, Path]) -> None:
    user, tools = dirs
    _tool(user, "helm3", "v4.3.1+gc0d08d0")
    found = prerequisites.find(prerequisites.HELM3, tools, str(user))
    assert not found.ok
    assert "needs 3.17 or later, below 4.0" in found.problem()


def test_ignoring_path_takes_only_the_pinned_tools(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, tools = dirs
    _tool(user, "kind", "kind v0.33.0")
    _tool(tools, "kind", "kind v0.32.0")
    monkeypatch.setenv("INSTALL_TOOLS_IGNORE_PATH", "1")
    assert prerequisites.find(prerequisites.KIND, tools, str(user)).path == tools / "kind"


def test_the_users_path_comes_before_tools_bin_even_when_make_put_it_first(tmp_path: Path) -> None:
    tools = tmp_path / ".tools" / "bin"
    assert prerequisites.user_path(tools, f"{tools}:/usr/bin:/bin") == "/usr/bin:/bin"


def test_docker_missing_is_said_before_anything_else(dirs: tuple[Path, Path]) -> None:
    user, _ = dirs
    user.mkdir()
    assert prerequisites.docker_problem(str(user)) == "the docker command is not on PATH"
    _tool(user, "docker", "Cannot connect to the Docker daemon")
    (user / "docker").write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
    )
    assert "no Docker daemon answers at" in prerequisites.docker_problem(str(user))


def test_preflight_names_every_missing_tool_before_make_sync_runs(
    dirs: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """macOS (nothing installable): `make e2e` stops before `make sync`, naming each tool."""
    user, tools = dirs
    _tool(user, "docker", "29.1.3")  # answers `docker version` and `docker buildx version`
    monkeypatch.setenv("PATH", str(user))
    monkeypatch.delenv("HELM", raising=False)
    monkeypatch.delenv("INSTALL_TOOLS_IGNORE_PATH", raising=False)
    monkeypatch.setattr(kind, "TOOLS_BIN", tools)
    monkeypatch.setattr(prerequisites, "can_install_here", lambda: False)
    assert cli.main(["preflight", "e2e"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("make e2e needs:\n")
    for name in ("kind", "kubectl", "helm"):
        assert f"  - {name} is not on PATH: get {name} " in said
    assert cli.main(["preflight", "load-kind"]) == 2
    assert "helm" not in capsys.readouterr().err, "load-kind runs no helm"


def test_without_docker_a_kind_command_stops_and_installs_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(kind, "install_absent", lambda names: pytest.fail(f"installed {names}"))
    assert cli.main(["up"]) == 2
    said = capsys.readouterr().err
    assert "make up needs a Docker engine" in said and "Nothing was installed." in said
    assert cli.main(["down"]) == 0
    assert "nothing to delete" in capsys.readouterr().err


def test_commands_refuse_wrong_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["no-such-command"]) == 2
    assert cli.main(["forward"]) == 2
    assert "usage: python3 -m fdc_make forward grafana|" in capsys.readouterr().err
    assert cli.main(["preflight"]) == 2
    assert "preflight: missing a required argument" in capsys.readouterr().err
    assert cli.main(["release-check", "1.2.3", "owner", "extra"]) == 2


def test_the_webhook_goes_into_a_secret_from_a_file_never_onto_a_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran: list[tuple[tuple[str, ...], Path]] = []
    seen: list[str] = []

    def run(*command: str, timeout: float | None = None, cwd: Path = REPO_ROOT) -> None:
        ran.append((command, cwd))
        if "--from-file=webhook-url=./discord-webhook-url" in command:
            seen.append((cwd / "discord-webhook-url").read_text())

    target = kind.Kind({}, cluster="fdc")
    monkeypatch.setattr(kind, "TOOLS_DIR", tmp_path)
    (tmp_path / "kind").mkdir()
    monkeypatch.setattr(target, "run", run)
    url = "https://discord.example/api/webhooks/1/secret-token"
    stack.webhook_secret(target, url)
    assert seen == [url]
    assert not (tmp_path / "kind" / "discord-webhook-url").exists(), "the file is removed"
    assert all(url not in " ".join(command) for command, _ in ran)
    assert ran[0][0][-3:] == ("secret", kind.WEBHOOK_OBJECT, "--ignore-not-found")


def test_make_template_without_the_network_renders_ours_alone(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    helm = require_tool("helm")
    monkeypatch.setattr(template, "fetch_real", lambda _helm: False)
    assert template.template(str(helm)) == 0
    out, err = capfd.readouterr()
    assert "kube-prometheus-stack could not be fetched" in err
    assert "with kube-prometheus-stack disabled" in err
    kinds = {line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("kind:")}
    assert {"Deployment", "SLOAlert", "ServiceMonitor"} <= kinds
    assert "Prometheus" not in kinds and "Alertmanager" not in kinds
    assert not list((REPO_ROOT / "charts" / "fdc-stack").glob("tmpcharts*"))


def test_the_umbrella_without_kube_prometheus_stack_keeps_our_four_charts() -> None:
    text = (REPO_ROOT / "charts" / "fdc-stack" / "Chart.yaml").read_text(encoding="utf-8")
    names = [dep.name for dep in versions.dependencies(template.without_kps(text))]
    assert names == list(versions.COMPONENTS)


# --- one version ---------------------------------------------------------------------------


def test_every_version_in_the_tree_moves_together() -> None:
    """The charts' version and appVersion, the umbrella's own dependencies, every Python package
    of the workspace (the images take the same number: images.local_image, versions.image)."""
    assert versions.problems(REPO_ROOT) == []


def _tree_copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(REPO_ROOT / "charts", root / "charts", ignore=shutil.ignore_patterns("charts"))
    for path in versions.python_packages(REPO_ROOT):
        target = root / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return root


def test_a_version_that_differs_is_named_by_file_and_field(tmp_path: Path) -> None:
    root = _tree_copy(tmp_path)
    version = versions.project_version(root)
    relay = root / "charts" / "discord-relay" / "Chart.yaml"
    relay.write_text(relay.read_text().replace(f'appVersion: "{version}"', 'appVersion: "9.9.9"'))
    operator = root / "operator" / "pyproject.toml"
    operator.write_text(operator.read_text().replace(f'version = "{version}"', 'version = "0.0.1"'))
    assert versions.problems(root) == [
        f"charts/discord-relay/Chart.yaml: appVersion is 9.9.9, not {version}",
        f"operator/pyproject.toml: version is 0.0.1, not {version}",
    ]
    with pytest.raises(ValueError, match=f"the tree cannot publish v{version}:"):
        versions.release_plan(root, version, "someone")


def test_release_check_lists_what_a_tag_publishes() -> None:
    version = versions.project_version(REPO_ROOT)
    make = shutil.which("make")
    assert make is not None
    listed = subprocess.run(
        [
            make,
            "--no-print-directory",
            "-C",
            str(REPO_ROOT),
            "release-check",
            f"VERSION={version}",
            "OWNER=FastDining",  # the charts' default images' owner, any case (GitHub's)
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ},
    ).stdout
    for component in versions.COMPONENTS:
        assert (
            f"image ghcr.io/fastdining/{component}:{version}  (linux/amd64, linux/arm64" in listed
        )
    for chart in versions.CHARTS:
        assert f"chart oci://ghcr.io/fastdining/charts/{chart} --version {version}" in listed
    wrong = subprocess.run(
        [make, "--no-print-directory", "-C", str(REPO_ROOT), "release-check", "VERSION=99.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrong.returncode != 0
    assert f"the tree is at {version}, not 99.0.0" in wrong.stderr


def test_a_release_under_another_owner_is_refused_naming_the_charts_images() -> None:
    """Its charts would pull ghcr.io/fastdining's images, not the ones it pushed."""
    version = versions.project_version(REPO_ROOT)
    with pytest.raises(ValueError) as refused:
        versions.release_plan(REPO_ROOT, version, "someorg")
    for component in versions.COMPONENTS:
        assert (
            f"charts/{component}/values.yaml: image.registry/repository is "
            f"ghcr.io/fastdining/{component}, not ghcr.io/someorg/{component}"
        ) in str(refused.value)


def test_a_release_without_cosign_stops_before_pushing_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no cosign, no docker
    monkeypatch.setenv("IMAGE_UV_VERSION", "0.0.0")
    with pytest.raises(kind.Stop, match="cosign is not on PATH"):
        release.release(versions.project_version(REPO_ROOT), "fastdining")


def test_the_packaged_umbrella_takes_the_kube_prometheus_stack_its_lock_holds() -> None:
    umbrella = REPO_ROOT / "charts" / "fdc-stack"
    text = (umbrella / "Chart.yaml").read_text(encoding="utf-8")
    lock = (umbrella / "Chart.lock").read_text(encoding="utf-8")
    locked = versions.locked_versions(lock)
    pinned = {
        dep.name: dep.version for dep in versions.dependencies(versions.pin_locked(text, lock))
    }
    declared = {dep.name: dep.version for dep in versions.dependencies(text)}
    assert pinned["kube-prometheus-stack"] == locked["kube-prometheus-stack"]
    assert declared["kube-prometheus-stack"] != pinned["kube-prometheus-stack"], (
        "a range in the tree"
    )
    assert {n: v for n, v in pinned.items() if n != "kube-prometheus-stack"} == {
        n: v for n, v in declared.items() if n != "kube-prometheus-stack"
    }


def test_the_packaged_umbrella_takes_our_charts_from_the_registry() -> None:
    text = (REPO_ROOT / "charts" / "fdc-stack" / "Chart.yaml").read_text(encoding="utf-8")
    # Quoted or not, as YAML allows.
    text = text.replace(
        "repository: file://../airestaurant", 'repository: "file://../airestaurant"'
    )
    packaged = versions.dependencies(versions.published_umbrella(text, "someorg"))
    ours = {dep.name: dep.repository for dep in packaged if dep.name in versions.COMPONENTS}
    assert ours == dict.fromkeys(versions.COMPONENTS, "oci://ghcr.io/someorg/charts")
    kps = [dep for dep in packaged if dep.name == "kube-prometheus-stack"]
    assert kps and kps[0].repository.startswith("https://")


def test_the_charts_run_the_images_make_up_loaded(tmp_path: Path) -> None:
    """Each component chart, given the values `make up` writes, runs the image it built."""
    helm = require_tool("helm")
    values = tmp_path / "local-images.yaml"
    values.write_text(images.local_images_values("1.2.3"))
    for component in kind.IMAGE_DOCKERFILES:
        nested = tmp_path / f"{component}.yaml"
        nested.write_text(json.dumps(json.loads(values.read_text())[component]))
        rendered = subprocess.run(
            [
                str(helm),
                "template",
                "fdc",
                str(REPO_ROOT / "charts" / component),
                "-f",
                str(nested),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        running = set(re.findall(r"^\s+image: \"?([^\"\s]+)\"?$", rendered, re.MULTILINE))
        assert running == {images.local_image(component, "1.2.3")}, (component, running)


def test_a_failing_command_is_reported_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail() -> int:
        raise subprocess.CalledProcessError(3, ["helm", "upgrade", "--install", "fdc"])

    monkeypatch.setitem(cli.COMMANDS, "up", fail)
    assert cli.main(["up"]) == 3
    assert "up: `helm upgrade --install fdc` exited 3" in capsys.readouterr().err


# A stand-in for docker, kind, kubectl and helm: logs each call, answers what `make up` asks.
FAKE_TOOL = """#!{python}
import os, sys
from pathlib import Path
name, args = Path(sys.argv[0]).name, sys.argv[1:]
state = Path(os.environ["FAKE_STATE"])
with (state / "calls").open("a") as log:
    log.write(" ".join([name, *args]) + "\\n")
line = " ".join(args)
if name == "docker":
    print("27.5.1" if args[0] == "version" else "sha256:0123" if args[0] == "image" else "ok")
elif name == "kind":
    if args[0] == "version":
        print("kind v0.33.0 go1.27.2 linux/amd64")
    elif line == "get clusters":
        print("fdc" if (state / "created").exists() else "")
    elif line.startswith("create cluster"):
        (state / "created").touch()
    elif line.startswith("get kubeconfig"):
        print("apiVersion: v1")
elif name == "helm":
    if args[0] == "version":
        print("v4.3.1+gc0d08d0")
    elif args[0] == "status":
        sys.exit(0 if (state / "installed").exists() else 1)
    elif args[:2] == ["upgrade", "--install"]:
        (state / "installed").touch()
elif name == "kubectl":
    if args[0] == "version":
        print("Client Version: v1.37.1")
    elif "get" in args and "-o" in args and "name" in args:
        print("deployment.apps/fdc-fastdining-api")
"""


@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name in ("docker", "kind", "kubectl", "helm"):
        path = bin_dir / name
        path.write_text(FAKE_TOOL.format(python=os.path.realpath(sys.executable)))
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_STATE", str(state))
    monkeypatch.setenv("IMAGE_UV_VERSION", "0.0.0")
    monkeypatch.delenv("DISCORD_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("HELM", raising=False)
    monkeypatch.delenv("INSTALL_TOOLS_IGNORE_PATH", raising=False)
    monkeypatch.setattr(kind, "TOOLS_DIR", tmp_path / "tools")
    monkeypatch.setattr(kind, "TOOLS_BIN", tmp_path / "tools" / "bin")
    monkeypatch.setattr(kind, "install_absent", lambda names: pytest.fail(f"installed {names}"))
    return state


def test_make_up_runs_the_kind_path_in_order(fake_tools: Path) -> None:
    """`make up`'s commands, in process, against stand-ins of docker, kind, kubectl and helm."""
    assert cli.main(["up"]) == 0
    calls = (fake_tools / "calls").read_text().splitlines()
    version = versions.project_version(REPO_ROOT)
    image = kind_release.NODE_IMAGES[(0, 33)]
    assert (
        f"kind create cluster --config manifests/kind/cluster.yaml --image {image} --wait 180s"
        in calls
    )
    builds = [c for c in calls if c.startswith("docker buildx build")]
    assert [c.split("--tag ")[1].split()[0] for c in builds] == [
        images.local_image(component, version) for component in kind.IMAGE_DOCKERFILES
    ]
    assert all("--build-arg UV_VERSION=0.0.0" in c for c in builds)
    # A plain image: an attestation's index is what `kind load` fails on (containerd image store).
    assert all(" --load --provenance=false " in c for c in builds)
    loaded = next(c for c in calls if c.startswith("kind load docker-image"))
    assert loaded.split()[-4:] == [images.local_image(c, version) for c in kind.IMAGE_DOCKERFILES]
    order = [
        "kind create cluster",
        "docker buildx build",
        "kind load docker-image",
        "helm repo add prometheus-community",
        "helm dependency build charts/fdc-stack",
        "kubectl apply -f manifests/namespaces.yaml",
        "helm upgrade --install fdc charts/fdc-stack --namespace monitoring --create-namespace -f",
        "kubectl -n monitoring wait --for=condition=Available",
        "kubectl -n monitoring rollout status deployment.apps/fdc-fastdining-api",
    ]
    positions = [next(i for i, c in enumerate(calls) if c.startswith(step)) for step in order]
    assert positions == sorted(positions), calls
    # Again: an upgrade in place, rolling out the rebuilt images; no second cluster.
    assert cli.main(["up"]) == 0
    calls = (fake_tools / "calls").read_text().splitlines()
    assert sum(c.startswith("kind create cluster") for c in calls) == 1
    assert any(c.startswith("kubectl -n monitoring patch deployment.apps/") for c in calls)


def test_make_down_deletes_the_cluster_it_finds(fake_tools: Path) -> None:
    assert cli.main(["down"]) == 0
    assert not any("delete" in c for c in (fake_tools / "calls").read_text().splitlines())
    (fake_tools / "created").touch()
    assert cli.main(["down"]) == 0
    assert "kind delete cluster --name fdc" in (fake_tools / "calls").read_text()


# --- the oldest Python: macOS's python3 -------------------------------------------------------

OLDEST_PYTHON = (3, 9)  # the python3 of Xcode's Command Line Tools, what `make` on macOS finds
PACKAGE = REPO_ROOT / "scripts" / "fdc-make" / "src" / "fdc_make"


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_the_kind_path_parses_as_the_oldest_python_it_runs_on(module: str) -> None:
    """Grammar newer than 3.9 (match, except*, ...) is a SyntaxError here."""
    source = (PACKAGE / module).read_text(encoding="utf-8")
    ast.parse(source, filename=module, feature_version=OLDEST_PYTHON)


def test_the_kind_path_imports_without_the_modules_python_added_after_3_9() -> None:
    """tomllib (3.11) only where the release checks read pyproject.toml: `make up` runs anyway,
    and release-check says which Python it needs."""
    newer = ("tomllib", "wsgiref.types")  # the standard library's additions in 3.10 to 3.13
    script = (
        "import sys\n"
        + "".join(f"sys.modules[{name!r}] = None\n" for name in newer)
        + "from fdc_make import cli, forwards, images, kind, release, stack, template, versions\n"
        + "assert versions.project_version(kind.ROOT)\n"
        + "try:\n    versions.problems(kind.ROOT)\nexcept ValueError as error:\n"
        + "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "needs Python 3.11 or later (tomllib)" in result.stdout


def test_the_packages_python_floor_is_the_one_the_gate_checks() -> None:
    pyproject = (PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    main = (PACKAGE / "__main__.py").read_text(encoding="utf-8")
    dotted = ".".join(map(str, OLDEST_PYTHON))
    assert f'requires-python = ">={dotted}"' in pyproject
    assert f"if sys.version_info < {OLDEST_PYTHON}:" in main
