"""One version for everything a tag publishes: the charts' `version` and `appVersion`, the
umbrella's dependencies on our own charts, the Python packages' versions and the images' tags.

Read from the files themselves (no copy of the number anywhere else); `problems()` names every
file that differs, `release_plan()` lists what a tag would publish. Only these two read TOML, with
Python 3.11's tomllib: imported where they need it, so the kind path (images.py and stack.py read
`project_version`) still runs on macOS's python3 3.9.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

COMPONENTS = ("fastdining-api", "airestaurant", "discord-relay", "sloalert-operator")
UMBRELLA = "fdc-stack"
CHARTS = (*COMPONENTS, UMBRELLA)
PLATFORMS = ("linux/amd64", "linux/arm64")
REGISTRY = "ghcr.io"
SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")


def _top_level(text: str, key: str) -> str | None:
    match = re.search(rf"^{key}:\s*\"?([^\"\s#]+)\"?", text, re.MULTILINE)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    repository: str


def dependencies(chart_yaml: str) -> list[Dependency]:
    """The `dependencies:` entries of a Chart.yaml (name, version, repository, in any order)."""
    block = re.search(r"^dependencies:\n((?:[ \t]+.*\n?|\n)*)", chart_yaml, re.MULTILINE)
    if block is None:
        return []
    found = []
    for entry in re.split(r"^\s*-\s+", block.group(1), flags=re.MULTILINE)[1:]:
        fields = dict(
            re.findall(r"(name|version|repository):\s*\"?([^\"\n]+?)\"?\s*$", entry, re.M)
        )
        found.append(Dependency(fields["name"], fields["version"], fields["repository"]))
    return found


def chart_file(root: Path, chart: str) -> Path:
    return root / "charts" / chart / "Chart.yaml"


def _toml(path: Path) -> dict:
    try:
        import tomllib  # 3.11+: here, not at the top (see the module's docstring)
    except ModuleNotFoundError as error:
        raise ValueError(
            f"reading {path.name} needs Python 3.11 or later (tomllib): make PYTHON=python3.11 ..."
        ) from error
    return tomllib.loads(path.read_text(encoding="utf-8"))


def python_packages(root: Path) -> list[Path]:
    """Every pyproject.toml of the workspace: the root and its members."""
    workspace = _toml(root / "pyproject.toml")
    members = workspace["tool"]["uv"]["workspace"]["members"]
    return [root / "pyproject.toml", *(root / member / "pyproject.toml" for member in members)]


def project_version(root: Path) -> str:
    """The umbrella chart's version: the number every other place must repeat."""
    version = _top_level(chart_file(root, UMBRELLA).read_text(encoding="utf-8"), "version")
    if version is None:
        raise ValueError(f"{chart_file(root, UMBRELLA)} has no version")
    return version


def problems(root: Path) -> list[str]:
    """Every place whose version differs from the umbrella chart's, by file and field."""
    version = project_version(root)
    found: list[str] = []
    for chart in CHARTS:
        path = chart_file(root, chart)
        text = path.read_text(encoding="utf-8")
        for key in ("version", "appVersion"):
            value = _top_level(text, key)
            if value != version:
                found.append(f"{path.relative_to(root)}: {key} is {value}, not {version}")
        for dep in dependencies(text):
            if dep.repository.startswith("file://") and dep.version != version:
                where = path.relative_to(root)
                found.append(f"{where}: dependency {dep.name} is {dep.version}, not {version}")
    for path in python_packages(root):
        value = _toml(path)["project"].get("version")
        if value != version:
            found.append(f"{path.relative_to(root)}: version is {value}, not {version}")
    return found


def published_umbrella(chart_yaml: str, owner: str) -> str:
    """The umbrella's Chart.yaml as packaged: our charts from the registry, not from file://."""
    return re.sub(
        r"repository:\s*[\"']?file://\.\./[A-Za-z0-9-]+[\"']?",
        f"repository: oci://{REGISTRY}/{owner}/charts",
        chart_yaml,
    )


def locked_versions(chart_lock: str) -> dict[str, str]:
    """A Chart.lock's resolved version of each dependency, by name."""
    entries = re.findall(
        r"^- name: (\S+)\n\s+repository: \S+\n\s+version: \"?([^\"\s]+)", chart_lock, re.MULTILINE
    )
    return dict(entries)


def pin_locked(chart_yaml: str, chart_lock: str) -> str:
    """The umbrella's Chart.yaml with every registry dependency's range replaced by the version
    Chart.lock resolved (kube-prometheus-stack 88.5.3, what the tree is tested with): a release
    must not resolve `>=88.5.3 <89.0.0` again and ship a kube-prometheus-stack nobody tested."""
    for dep in dependencies(chart_yaml):
        locked = locked_versions(chart_lock).get(dep.name)
        if locked is None or dep.repository.startswith("file://"):
            continue
        chart_yaml = re.sub(
            rf"(^  - name: {re.escape(dep.name)}\n(?:    (?!version:).*\n)*?    version: ).*$",
            rf'\g<1>"{locked}"',
            chart_yaml,
            flags=re.MULTILINE,
        )
    return chart_yaml


def image(owner: str, component: str, version: str) -> str:
    return f"{REGISTRY}/{owner}/{component}:{version}"


def chart_default_image(root: Path, component: str) -> str | None:
    """`registry/repository` of a component chart's values.yaml `image:` block (bitnami's)."""
    values = (root / "charts" / component / "values.yaml").read_text(encoding="utf-8")
    block = re.search(r"^image:\n((?:[ \t]+.*\n)+)", values, re.MULTILINE)
    if block is None:
        return None
    fields = dict(re.findall(r"^\s+(registry|repository):\s*\"?([^\"\s#]+)", block.group(1), re.M))
    return f"{fields.get('registry')}/{fields.get('repository')}"


def image_problems(root: Path, owner: str) -> list[str]:
    """The published charts must pull what the release pushes: each chart's default image is
    ghcr.io/<owner>/<chart> (a release under another owner would ship charts pulling the first
    owner's images)."""
    found = []
    for component in COMPONENTS:
        default = chart_default_image(root, component)
        published = image(owner, component, "").rstrip(":")
        if default != published:
            found.append(
                f"charts/{component}/values.yaml: image.registry/repository is {default}, "
                f"not {published} (what a release under {owner} pushes)"
            )
    return found


def release_plan(root: Path, version: str, owner: str) -> list[str]:
    """What tagging v`version` publishes, one line each; ValueError when the tree disagrees."""
    if not SEMVER.fullmatch(version):
        raise ValueError(f"VERSION={version!r} is not x.y.z")
    differ = problems(root) + image_problems(root, owner)
    if project_version(root) != version:
        differ.insert(0, f"the tree is at {project_version(root)}, not {version}")
    if differ:
        raise ValueError(
            f"the tree cannot publish v{version}:\n" + "\n".join(f"  - {p}" for p in differ)
        )
    lines = [f"tag v{version} publishes, under {REGISTRY}/{owner}:"]
    for component in COMPONENTS:
        lines.append(
            f"  image {image(owner, component, version)}  ({', '.join(PLATFORMS)}; "
            "SBOM and provenance attestations; keyless cosign signature)"
        )
    for chart in CHARTS:
        lines.append(f"  chart oci://{REGISTRY}/{owner}/charts/{chart} --version {version}")
    lines.append(
        f"  the packaged {UMBRELLA} takes "
        + ", ".join(COMPONENTS)
        + f" from oci://{REGISTRY}/{owner}/charts instead of file://"
    )
    lines.append(f"  a GitHub release v{version} with generated notes")
    return lines
