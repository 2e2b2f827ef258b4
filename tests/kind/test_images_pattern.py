"""Every image is built the same way, and builds nothing it should not see. Nothing is built here:
the Dockerfiles and their ignore files are read and checked against the repository's own files.

- Each Dockerfile has `<Dockerfile>.dockerignore` beside it (BuildKit reads that one instead of a
  root .dockerignore; the context is the repository root, where .tools/ holds gigabytes). Applied
  the way BuildKit applies it, it lets in only what the Dockerfile copies: no tool, virtualenv,
  cache, test, chart or node module, and every COPY source it needs.
- The same two stages from the same base image pinned by digest (`<base>@sha256:... AS builder`,
  then `<base>@sha256:...`), the same two `uv sync` steps, and the final stage runs as UID 10001.
- Every workspace package the image's package needs (from uv.lock) is copied, pyproject and
  source, so `uv sync --no-editable` can build it.
- uv, the build tool they share, is pinned once: the Makefile's UV_VERSION, passed as a build
  argument; no Dockerfile has a default or a pin of its own.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from fdc_make import images, kind, release
from fdc_podrunner.context import ContextFilter
from testkit.tools import REPO_ROOT

MAKEFILE = REPO_ROOT / "Makefile"
SKIP_WALK = {".git", ".tools", ".venv", "node_modules"}
# python:3.11.14-slim-bookworm's multi-architecture index (amd64 and arm64: the release builds
# both), by digest: a tag can move under the same name, a digest cannot.
BASE = (
    "python:3.11.14-slim-bookworm"
    "@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d"
)
STAGES = [f"{BASE} AS builder", BASE]
# Paths that must never enter any build context (one of each kind the ignore files must stop).
NEVER_SENT = [
    ".tools/bin/prometheus",
    ".tools/go-root/bin/go",
    ".venv/bin/python",
    ".git/HEAD",
    "node_modules/ajv/package.json",
    "charts/fdc-stack/Chart.yaml",
    "tests/e2e/conftest.py",
    "tests/apiserver/main.go",
    "services/fastdining-api/tests/test_app.py",
    "services/airestaurant/tests/conftest.py",
    "operator/tests/cluster/conftest.py",
    "libs/fdc-logging/tests/unit/test_fdc_logging.py",
    "services/fastdining-api/src/fastdining_api/__pycache__/app.cpython-311.pyc",
    "operator/src/sloalert/generator.pyc",
    ".pytest_cache/v/cache/nodeids",
    ".ruff_cache/0.8.0/123",
    "libs/fdc-logging/.pytest_cache/README.md",
    "bench/bench_relay.py",
    "manifests/slo/fastapi-availability.yaml",
]


def dockerfiles() -> list[Path]:
    """Every Dockerfile in the repository (outside tools, virtualenvs and node modules)."""
    found = []
    for directory, subdirs, files in os.walk(REPO_ROOT):
        subdirs[:] = [name for name in subdirs if name not in SKIP_WALK]
        found += [Path(directory, name) for name in files if name == "Dockerfile"]
    return sorted(found)


def _relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(dockerfile: Path) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    parsed = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            parsed.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return parsed


def repository_files() -> list[str]:
    files = []
    for directory, subdirs, names in os.walk(REPO_ROOT):
        subdirs[:] = [name for name in subdirs if name not in SKIP_WALK]
        files += [_relative(Path(directory, name)) for name in names]
    return files


def copy_sources(dockerfile: Path) -> list[str]:
    """The context paths the Dockerfile's COPY instructions read (not `COPY --from=`)."""
    sources = []
    for instruction in instructions(dockerfile):
        if instruction.keyword == "COPY" and "--from=" not in instruction.arguments:
            *paths, _destination = instruction.arguments.split()
            sources += [path.rstrip("/") for path in paths]
    return sources


DOCKERFILES = dockerfiles()
IDS = [_relative(path) for path in DOCKERFILES]


def test_every_image_and_the_stand_in_have_a_dockerfile() -> None:
    assert set(IDS) >= {
        "services/fastdining-api/Dockerfile",
        "services/airestaurant/Dockerfile",
        "services/discord-relay/Dockerfile",
        "operator/Dockerfile",
        "tests/testkit/Dockerfile",
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_the_ignore_file_sends_only_what_the_dockerfile_copies(dockerfile: Path) -> None:
    ignore_file = dockerfile.with_name(dockerfile.name + ".dockerignore")
    assert ignore_file.is_file(), f"{_relative(dockerfile)} has no {ignore_file.name} beside it"
    context = ContextFilter.from_file(ignore_file)
    leaks = [path for path in NEVER_SENT if context.sends(path)]
    # The test kit is the stand-in image's payload; every other image leaves tests out.
    assert not leaks, f"{_relative(ignore_file)} lets these into the build context: {leaks}"
    sources = copy_sources(dockerfile)
    sent = [path for path in repository_files() if context.sends(path)]
    for source in sources:
        assert any(path == source or path.startswith(source + "/") for path in sent), (
            f"{_relative(dockerfile)} copies {source}, which its ignore file leaves out"
        )
    extra = [
        path
        for path in sent
        if not any(path == source or path.startswith(source + "/") for source in sources)
    ]
    assert not extra, f"sent but never copied by {_relative(dockerfile)}: {extra}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_the_same_stages_and_uid_10001(dockerfile: Path) -> None:
    parsed = instructions(dockerfile)
    assert [i.arguments for i in parsed if i.keyword == "FROM"] == STAGES
    final_stage = parsed[max(n for n, i in enumerate(parsed) if i.keyword == "FROM") :]
    users = [i.arguments for i in final_stage if i.keyword == "USER"]
    assert users == ["10001:10001"], f"{_relative(dockerfile)}: USER {users}"
    runs = [i.arguments for i in parsed if i.keyword == "RUN" and "uv sync" in i.arguments]
    assert len(runs) == 2, runs
    assert runs[0].startswith("uv sync --frozen --no-dev --package ")
    assert runs[0].endswith("--no-install-workspace")
    assert runs[1] == runs[0].replace("--no-install-workspace", "--no-editable")
    assert "libs" in copy_sources(dockerfile), "the shared libraries (libs/) must be copied"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_uv_comes_from_the_one_pin(dockerfile: Path) -> None:
    parsed = instructions(dockerfile)
    assert Instruction("ARG", "UV_VERSION") in parsed, "ARG UV_VERSION, without a default"
    installs = [i.arguments for i in parsed if i.keyword == "RUN" and "pip install" in i.arguments]
    assert len(installs) == 1 and '"uv==${UV_VERSION}"' in installs[0], installs
    text = dockerfile.read_text(encoding="utf-8")
    assert not re.search(r"uv[=:]=?\s*\d", text), f"{_relative(dockerfile)} pins uv itself"
    assert "astral-sh/uv" not in text


def test_every_from_names_its_image_by_digest() -> None:
    for dockerfile in DOCKERFILES:
        for instruction in instructions(dockerfile):
            if instruction.keyword == "FROM":
                image = instruction.arguments.split()[0]
                assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), (
                    f"{_relative(dockerfile)}: FROM {image} has no digest"
                )


def test_the_makefile_holds_the_pin_and_passes_it_to_every_build() -> None:
    makefile = MAKEFILE.read_text(encoding="utf-8")
    pins = re.findall(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert len(pins) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", pins[0]), pins
    assert "IMAGE_UV_VERSION=$(UV_VERSION) $(PYTHON) -m fdc_make\n" in makefile
    # Both places that build images pass it (the kind path and the release).
    for module in (images, release):
        source = Path(module.__file__).read_text(encoding="utf-8")
        builds = len(re.findall(r'"docker",\s*"buildx",\s*"build"', source))
        assert builds == source.count('f"UV_VERSION={uv_version}"') >= 1, module.__name__


def test_each_component_chart_has_its_dockerfile() -> None:
    charts = {path.parent.name for path in (REPO_ROOT / "charts").glob("*/Chart.yaml")}
    assert set(kind.IMAGE_DOCKERFILES) == charts - {"fdc-stack"}
    assert all((REPO_ROOT / path).is_file() for path in kind.IMAGE_DOCKERFILES.values())


def workspace_needs(package: str) -> set[str]:
    """Folders of the workspace members `package` needs, itself included, as uv.lock resolves."""
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    packages = {entry["name"]: entry for entry in lock["package"]}
    needed, todo = set(), [package]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        entry = packages[name]
        todo += [dependency["name"] for dependency in entry.get("dependencies", [])]
        for extra in entry.get("optional-dependencies", {}).values():
            todo += [dependency["name"] for dependency in extra]
    return {
        packages[name]["source"]["editable"]
        for name in needed
        if "editable" in packages[name].get("source", {})
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_every_workspace_package_the_image_needs_is_copied(dockerfile: Path) -> None:
    sync = next(i.arguments for i in instructions(dockerfile) if "uv sync" in i.arguments)
    package = re.search(r"--package (\S+)", sync)
    assert package is not None, sync
    sources = copy_sources(dockerfile)
    for member in sorted(workspace_needs(package.group(1))):
        for part in (f"{member}/pyproject.toml", f"{member}/src"):
            assert any(part == s or part.startswith(s + "/") for s in sources), (
                f"{_relative(dockerfile)} builds {package.group(1)}, which needs {member}: "
                f"copy {part}"
            )
