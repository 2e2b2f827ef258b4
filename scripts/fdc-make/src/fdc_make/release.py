"""`make release VERSION=x.y.z OWNER=...`, run by .github/workflows/release.yml on a version tag:
what `release_plan` lists, published. Needs docker (buildx, logged in to ghcr.io), cosign and helm
(logged in to ghcr.io); the workflow provides them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from fdc_make import versions
from fdc_make.kind import IMAGE_DOCKERFILES, ROOT, Stop, helm_name, require


def _run(*command: str, cwd: Path = ROOT, stdin: str | None = None) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(list(command), cwd=cwd, check=True, input=stdin, text=True)


def login(owner: str, helm: str) -> None:
    """docker and helm logged in to ghcr.io with REGISTRY_TOKEN (the workflow's GITHUB_TOKEN),
    passed on stdin, never as an argument."""
    token = os.environ.get("REGISTRY_TOKEN")
    if not token:
        raise Stop("REGISTRY_TOKEN is not set: the release workflow passes its GITHUB_TOKEN")
    user = os.environ.get("GITHUB_ACTOR", owner)
    _run("docker", "login", versions.REGISTRY, "--username", user, "--password-stdin", stdin=token)
    _run(
        helm,
        "registry",
        "login",
        versions.REGISTRY,
        "--username",
        user,
        "--password-stdin",
        stdin=token,
    )


def push_image(owner: str, component: str, version: str, uv_version: str, work: Path) -> None:
    """Multi-arch build and push with SBOM and provenance, then a keyless cosign signature of the
    pushed digest (cosign signs by digest: a tag can move)."""
    image = versions.image(owner, component, version)
    metadata = work / f"{component}.json"
    _run(
        "docker",
        "buildx",
        "build",
        "--push",
        "--platform",
        ",".join(versions.PLATFORMS),
        "--sbom=true",
        "--provenance=mode=max",
        "--file",
        IMAGE_DOCKERFILES[component],
        "--build-arg",
        f"UV_VERSION={uv_version}",
        "--tag",
        image,
        f"--cache-from=type=gha,scope={component}",
        f"--cache-to=type=gha,mode=max,scope={component}",
        "--metadata-file",
        str(metadata),
        ".",
    )
    digest = json.loads(metadata.read_text())["containerimage.digest"]
    _run("cosign", "sign", "--yes", f"{image.rsplit(':', 1)[0]}@{digest}")


def push_charts(owner: str, helm: str, work: Path) -> None:
    """The four charts first, then the umbrella packaged with their published versions and the
    kube-prometheus-stack its Chart.lock holds."""
    registry = f"oci://{versions.REGISTRY}/{owner}/charts"
    packages = work / "packages"
    packages.mkdir()
    for chart in versions.COMPONENTS:
        _run(helm, "package", str(ROOT / "charts" / chart), "--destination", str(packages))
    for archive in sorted(packages.glob("*.tgz")):
        _run(helm, "push", str(archive), registry)
    umbrella = work / "charts" / versions.UMBRELLA
    shutil.copytree(
        ROOT / "charts" / versions.UMBRELLA,
        umbrella,
        ignore=shutil.ignore_patterns("charts", "tmpcharts*", "Chart.lock"),
    )
    chart_yaml = umbrella / "Chart.yaml"
    lock = (ROOT / "charts" / versions.UMBRELLA / "Chart.lock").read_text(encoding="utf-8")
    pinned = versions.pin_locked(chart_yaml.read_text(encoding="utf-8"), lock)
    chart_yaml.write_text(versions.published_umbrella(pinned, owner))
    _run(
        helm,
        "repo",
        "add",
        "prometheus-community",
        "https://prometheus-community.github.io/helm-charts",
        "--force-update",
    )
    _run(helm, "dependency", "update", str(umbrella))
    _run(helm, "package", str(umbrella), "--destination", str(work))
    _run(
        helm,
        "push",
        str(work / f"{versions.UMBRELLA}-{versions.project_version(ROOT)}.tgz"),
        registry,
    )


def release(version: str, owner: str) -> None:
    try:
        plan = versions.release_plan(ROOT, version, owner.lower())
    except ValueError as error:
        raise Stop(str(error), 2) from error
    print("\n".join(plan), flush=True)
    uv_version = os.environ.get("IMAGE_UV_VERSION", "")
    if not uv_version:
        raise Stop("the uv pin is the Makefile's UV_VERSION: run this through make")
    # Checked before anything is pushed: an image without its signature is no release.
    if shutil.which("cosign") is None:
        raise Stop("cosign is not on PATH: the release workflow installs it (cosign-installer)", 2)
    helm = str(require("release", helm_name())[helm_name()])
    login(owner.lower(), helm)
    with tempfile.TemporaryDirectory(prefix="fdc-release-") as tmp:
        work = Path(tmp)
        for component in versions.COMPONENTS:
            push_image(owner.lower(), component, version, uv_version, work)
        push_charts(owner.lower(), helm, work)
