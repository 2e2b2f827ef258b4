"""Without Docker, `make up`, `make images` and `make e2e` (and `make load-kind`) stop at once,
before any install step, with a message that says what is missing and what to run instead; the
e2e suite skips saying why, and fails rather than skips when `make e2e` itself runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.tools import REPO_ROOT, find_tool

TARGETS = ("up", "images", "e2e", "load-kind")
# What the Makefile and scripts/kind.sh's preflight use before they decide; docker is not here.
PREFLIGHT_COMMANDS = ("bash", "cat", "sed", "dirname", "tail")


def _make(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    assert make is not None, "make is not installed"
    return subprocess.run(
        [make, "--no-print-directory", "-C", str(REPO_ROOT), target],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _assert_stopped_at_once(result: subprocess.CompletedProcess[str], target: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert f"make {target} needs a Docker engine" in result.stderr, result.stderr
    assert "make local" in result.stderr, result.stderr
    # Nothing ran before the check: no uv sync, no tool install, no build.
    assert result.stdout == "", result.stdout


@pytest.fixture
def path_without_docker(tmp_path: Path) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in PREFLIGHT_COMMANDS:
        found = shutil.which(command)
        assert found is not None, command
        (bin_dir / command).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize("target", TARGETS)
def test_without_the_docker_command(target: str, path_without_docker: str) -> None:
    result = _make(target, {"PATH": path_without_docker, "HOME": os.environ.get("HOME", "/")})
    _assert_stopped_at_once(result, target)
    assert "the docker command is not on PATH" in result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_without_a_docker_daemon(target: str, tmp_path: Path) -> None:
    if find_tool("docker") is None:
        pytest.skip("no docker command here: test_without_the_docker_command covers this machine")
    socket = f"unix://{tmp_path}/no-daemon.sock"
    result = _make(target, {**os.environ, "DOCKER_HOST": socket})
    _assert_stopped_at_once(result, target)
    assert f"no Docker daemon answers at {socket}" in result.stderr


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
