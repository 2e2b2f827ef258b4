"""The kind path's prerequisites: looked for on PATH first, versions checked, and only what is
absent (or too old) installed into .tools/ (on Debian and Ubuntu, by scripts/install-tools.sh from
Debian's archive and PyPI); elsewhere (macOS) the message names each one and how to get it.
Docker is never installed: without it nothing is, and the message says why.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fdc_make import kind_release

Version = tuple[int, ...]
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")
DOCKER_DOCS = "https://docs.docker.com/engine/install/"


def parse_version(text: str) -> Version | None:
    """The first dotted version in `text` ("kind v0.33.0 go1.27" -> (0, 33, 0))."""
    match = _VERSION.search(text)
    return tuple(int(part) for part in match.group().split(".")) if match else None


def dotted(version: Version) -> str:
    return ".".join(map(str, version))


@dataclass(frozen=True)
class Prerequisite:
    """One tool the kind path runs, the versions that fit, and how a user gets it."""

    name: str
    version_args: tuple[str, ...]
    minimum: Version
    below: Version | None
    # How to get it, said only where make up could not install it (no apt-get, or macOS).
    linux: str
    macos: str
    # Its line in scripts/tools.txt, when install-tools.sh can put it into .tools/ (Linux, apt).
    installable: bool = True

    def fits(self, version: Version) -> bool:
        return version >= self.minimum and (self.below is None or version < self.below)

    def wanted(self) -> str:
        text = f"{dotted(self.minimum)} or later"
        return text if self.below is None else f"{text}, below {dotted(self.below)}"

    def how_to_get(self) -> str:
        return self.macos if platform.system() == "Darwin" else self.linux


KIND = Prerequisite(
    "kind",
    ("version",),
    kind_release.MINIMUM,
    None,
    linux="https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
    macos="brew install kind",
)
KUBECTL = Prerequisite(
    "kubectl",
    ("version", "--client"),
    (1, 30),
    None,
    linux="https://kubernetes.io/docs/tasks/tools/",
    macos="brew install kubectl",
)
HELM = Prerequisite(
    "helm",
    ("version", "--short"),
    (3, 17),
    None,
    linux="https://helm.sh/docs/intro/install/",
    macos="brew install helm",
)
# `HELM=helm3` (the e2e workflow's matrix): helm v3 under its own name.
HELM3 = Prerequisite(
    "helm3",
    ("version", "--short"),
    (3, 17),
    (4, 0),
    linux="helm v3 named helm3 on PATH",
    macos="helm v3 named helm3 on PATH (brew install helm@3 && ln -s ... helm3)",
)
BY_NAME = {p.name: p for p in (KIND, KUBECTL, HELM, HELM3)}


@dataclass(frozen=True)
class Found:
    prerequisite: Prerequisite
    path: Path | None
    version: Version | None

    @property
    def ok(self) -> bool:
        return self.version is not None and self.prerequisite.fits(self.version)

    def problem(self) -> str:
        p = self.prerequisite
        if self.path is None:
            return f"{p.name} is not on PATH: get {p.name} {p.wanted()}: {p.how_to_get()}"
        if self.version is None:
            return f"{p.name} at {self.path} does not start or prints no version: {p.how_to_get()}"
        return (
            f"{p.name} at {self.path} is {dotted(self.version)}; the kind path needs "
            f"{p.wanted()}: {p.how_to_get()}"
        )


Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


def run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(command), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(list(command), 127, "", str(error))


def user_path(tools_bin: Path, path: str | None = None) -> str:
    """PATH without .tools/bin (the Makefile puts it first): the user's own tools come first."""
    entries = (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep)
    return os.pathsep.join(e for e in entries if e and Path(e).resolve() != tools_bin.resolve())


def find(
    prerequisite: Prerequisite, tools_bin: Path, path: str | None = None, runner: Runner = run
) -> Found:
    """On the user's PATH first; then what an earlier `make up` put into .tools/bin."""
    first: Found | None = None
    places = [user_path(tools_bin, path), str(tools_bin)]
    # As install-tools.sh: exactly the pinned tools in .tools/bin, as a clean CI has (workflows).
    if os.environ.get("INSTALL_TOOLS_IGNORE_PATH") == "1":
        places = places[1:]
    for where in places:
        located = shutil.which(prerequisite.name, path=where)
        if located is None:
            continue
        answer = runner([located, *prerequisite.version_args])
        version = None
        if answer.returncode == 0:
            version = parse_version(answer.stdout + answer.stderr)
        found = Found(prerequisite, Path(located), version)
        if found.ok:
            return found
        first = first or found
    return first or Found(prerequisite, None, None)


def docker_problem(path: str | None = None, runner: Runner = run) -> str | None:
    """Why Docker cannot run the kind path here, or None when it can."""
    docker = shutil.which("docker", path=path)
    if docker is None:
        return "the docker command is not on PATH"
    answer = runner([docker, "version", "--format", "{{.Server.Version}}"])
    if answer.returncode != 0:
        said = (answer.stderr.strip().splitlines() or ["no answer"])[-1]
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return f"no Docker daemon answers at {host} ({said})"
    if runner([docker, "buildx", "version"]).returncode != 0:
        return (
            "docker has no buildx (BuildKit), which reads the .dockerignore beside each Dockerfile"
        )
    return None


def docker_advice() -> str:
    if platform.system() == "Darwin":
        return "Install and start Docker Desktop (or colima with buildx)"
    return f"Install and start Docker Engine with the buildx plugin ({DOCKER_DOCS})"


def can_install_here() -> bool:
    """install-tools.sh fetches from Debian's archive and PyPI: Linux with apt-get and dpkg-deb."""
    return platform.system() == "Linux" and all(
        shutil.which(tool) for tool in ("apt-get", "dpkg-deb")
    )


@dataclass(frozen=True)
class Resolved:
    """Every prerequisite found and fitting: their paths by name."""

    paths: dict[str, Path]


class Missing(Exception):
    """Prerequisites absent or too old, each named with how to get it."""


def resolve(
    names: Iterable[str],
    tools_bin: Path,
    install: Callable[[list[str]], None],
    path: str | None = None,
    runner: Runner = run,
    installable_here: bool | None = None,
) -> Resolved:
    """Find every named prerequisite; install the absent ones when this machine can (then look
    again); raise Missing naming each one that still does not fit."""
    wanted = [BY_NAME[name] for name in names]
    found = [find(p, tools_bin, path, runner) for p in wanted]
    # Absent, or present but not fitting (a runner's old kind): a fitting one goes into .tools/bin.
    absent = [f.prerequisite.name for f in found if not f.ok and f.prerequisite.installable]
    if installable_here is None:
        installable_here = can_install_here()
    if absent and installable_here:
        install(absent)
        found = [find(p, tools_bin, path, runner) for p in wanted]
    problems = [f.problem() for f in found if not f.ok]
    if problems:
        raise Missing("\n".join(f"  - {problem}" for problem in problems))
    return Resolved({f.prerequisite.name: f.path for f in found if f.path is not None})
