"""Without Docker, every kind target stops at once with a message that is true for it: `make up`,
`make images`, `make e2e` and `make load-kind` name Docker, say what to run instead and install
nothing; `make down` says there is nothing to delete; `make grafana`, `make prometheus` and
`make alertmanager` say where that UI is without a cluster. The e2e suite skips saying why, and
fails rather than skips when `make e2e` itself runs it.

`make up` is also run on a fresh copy of the repository (what `git clone` would give) whose PATH
has no docker: it must leave that copy exactly as it found it (no .tools/, no virtualenv).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.tools import REPO_ROOT, find_tool

TARGETS = ("up", "images", "e2e", "load-kind")
# What the Makefile and the kind path use before they decide; docker is not among them.
PREFLIGHT_COMMANDS = ("bash", "cat", "env")


def _make(target: str, env: dict[str, str], root: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    make = shutil.which("make")
    assert make is not None, "make is not installed"
    return subprocess.run(
        [make, "--no-print-directory", "-C", str(root), target],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard, not a measure
        check=False,
    )


@pytest.fixture
def path_without_docker(tmp_path: Path) -> str:
    """A PATH with the few commands make needs and a Python 3.11 as `python3`, and no docker."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in PREFLIGHT_COMMANDS:
        found = shutil.which(command)
        assert found is not None, command
        (bin_dir / command).symlink_to(found)
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    return str(bin_dir)


def _env(path: str) -> dict[str, str]:
    return {"PATH": path, "HOME": os.environ.get("HOME", "/")}


@pytest.mark.parametrize("target", TARGETS)
def test_without_the_docker_command(target: str, path_without_docker: str) -> None:
    result = _make(target, _env(path_without_docker))
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert f"make {target} needs a Docker engine" in result.stderr, result.stderr
    assert "the docker command is not on PATH" in result.stderr
    assert "make local" in result.stderr and "Nothing was installed." in result.stderr
    assert result.stdout == "", "nothing ran before the check"


def test_make_down_says_there_is_nothing_to_delete(path_without_docker: str) -> None:
    result = _make("down", _env(path_without_docker))
    assert result.returncode == 0, result.stderr
    assert "make down: nothing to delete: kind clusters run in Docker" in result.stderr


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("grafana", "Without Docker there is no Grafana here"),
        ("prometheus", "make local runs Prometheus itself on http://127.0.0.1:9090"),
        ("alertmanager", "make local runs Alertmanager itself on http://127.0.0.1:9093"),
    ],
)
def test_the_port_forwards_say_where_each_ui_is_without_docker(
    target: str, said: str, path_without_docker: str
) -> None:
    result = _make(target, _env(path_without_docker))
    assert result.returncode == 2, result.stderr
    assert f"make {target} port-forwards to" in result.stderr
    assert said in result.stderr, result.stderr
    assert "needs a Docker engine (to build the images" not in result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_without_a_docker_daemon(target: str, tmp_path: Path) -> None:
    if find_tool("docker") is None:
        pytest.skip("no docker command here: test_without_the_docker_command covers this machine")
    socket = f"unix://{tmp_path}/no-daemon.sock"
    result = _make(target, {**os.environ, "DOCKER_HOST": socket})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"no Docker daemon answers at {socket}" in result.stderr
    assert result.stdout == ""


def _repository_files() -> list[str]:
    """What a clone of the tree as it stands would hold: tracked and new files, none ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [name for name in listed if (REPO_ROOT / name).is_file()]


def _tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def test_make_up_on_a_fresh_clone_without_docker_installs_nothing(
    tmp_path: Path, path_without_docker: str
) -> None:
    clone = tmp_path / "clone"
    for name in _repository_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, clone / name)
    before = _tree(clone)
    result = _make("up", _env(path_without_docker), root=clone)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "make up needs a Docker engine" in result.stderr
    assert "the docker command is not on PATH" in result.stderr
    assert _tree(clone) - before == set(), "make up wrote into the clone"
    assert not (clone / ".tools").exists() and not (clone / ".venv").exists()


def _e2e_suite(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FDC_E2E")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e", "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        env={**clean, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_e2e_suite_skips_saying_why_without_a_cluster(tmp_path: Path) -> None:
    result = _e2e_suite(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " skipped" in result.stdout and " passed" not in result.stdout, result.stdout[-3000:]
    assert "run `make e2e` (needs Docker)" in result.stdout
    assert "`make local` runs the stack on loopback" in result.stdout


def test_under_make_e2e_a_missing_cluster_fails(tmp_path: Path) -> None:
    result = _e2e_suite(tmp_path, FDC_E2E="1")
    assert result.returncode == 1, result.stdout[-3000:]
    assert " passed" not in result.stdout and " skipped" not in result.stdout
    assert "run `make e2e` (needs Docker)" in result.stdout


@pytest.mark.integration
def test_make_uv_puts_uv_in_a_virtualenv_of_its_own(tmp_path: Path) -> None:
    """Where no uv is on PATH, never into the system Python (PEP 668 refuses that on Debian 12
    and Ubuntu 24.04): a virtualenv in .tools/uv, linked from .tools/bin."""
    root = tmp_path / "clone"
    for name in ("Makefile", "tests/charts/checkov-requirement.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, root / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in ("bash", "cat", "mkdir", "ln"):
        (bin_dir / command).symlink_to(shutil.which(command) or command)
    python = Path(os.path.realpath(sys.executable))
    (bin_dir / "python3").symlink_to(python)
    result = _make("uv", {"PATH": str(bin_dir), "HOME": str(tmp_path)}, root=root)
    assert result.returncode == 0, result.stdout + result.stderr
    venv = root / ".tools" / "uv"
    assert (venv / "pyvenv.cfg").is_file()
    assert (root / ".tools" / "bin" / "uv").readlink() == Path("../uv/bin/uv")
    version = subprocess.run(
        [str(root / ".tools" / "bin" / "uv"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    pinned = re.search(r"^UV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert pinned is not None and version.split()[1] == pinned.group(1)
    # Again: uv is there now, nothing is installed twice.
    again = _make("uv", {"PATH": f"{root / '.tools' / 'bin'}:{bin_dir}"}, root=root)
    assert again.returncode == 0 and "uv not found" not in again.stdout
