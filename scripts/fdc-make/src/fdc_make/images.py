"""The images `make up` builds and loads: `fdc.local/fastdining/<chart>:<version>`, one per
component chart (kind.IMAGE_DOCKERFILES), and the values that point the charts at them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from fdc_make import versions
from fdc_make.kind import (
    IMAGE_DOCKERFILES,
    LOCAL_REPOSITORY,
    NAMESPACE,
    RELEASE,
    ROOT,
    Kind,
    Stop,
    say,
)


def local_image(component: str, version: str) -> str:
    return f"{LOCAL_REPOSITORY}/{component}:{version}"


def cache_flags(scope: str) -> list[str]:
    """BUILDX_CACHE=gha (the workflows): layers cached between runs in GitHub's cache."""
    if os.environ.get("BUILDX_CACHE") == "gha":
        return [
            f"--cache-from=type=gha,scope={scope}",
            f"--cache-to=type=gha,mode=max,scope={scope}",
        ]
    return []


def build(image: str, dockerfile: str) -> None:
    uv_version = os.environ.get("IMAGE_UV_VERSION")
    if not uv_version:
        raise Stop("the uv pin is the Makefile's UV_VERSION: run this through make")
    say(f"docker buildx build {image} ({dockerfile})")
    # --load: into the local image store that `kind load` reads, whatever buildx's driver.
    # --provenance=false: one plain image, not an index with an attestation manifest, which Docker
    # 29's default containerd image store would make and `kind load docker-image` cannot import
    # (kind#3795). Releases keep their attestations (release.py).
    subprocess.run(
        [
            "docker",
            "buildx",
            "build",
            "--load",
            "--provenance=false",
            "--file",
            dockerfile,
            "--build-arg",
            f"UV_VERSION={uv_version}",
            "--tag",
            image,
            *cache_flags(Path(dockerfile).parent.name),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )


def images() -> list[str]:
    version = versions.project_version(ROOT)
    built = []
    for component, dockerfile in IMAGE_DOCKERFILES.items():
        built.append(local_image(component, version))
        build(built[-1], dockerfile)
    return built


def local_images_values(version: str) -> str:
    """The values that point each component at the image `make up` built and loaded (JSON is
    YAML): registry, repository and tag set, so the charts' published defaults are never pulled
    on kind (every component chart has bitnami's image.registry; tests/kind renders each)."""
    registry, _, repository = LOCAL_REPOSITORY.partition("/")
    values = {
        component: {
            "image": {
                "registry": registry,
                "repository": f"{repository}/{component}",
                "tag": version,
                "pullPolicy": "IfNotPresent",
            }
        }
        for component in IMAGE_DOCKERFILES
    }
    return json.dumps(values, indent=2) + "\n"


def restart_rebuilt(kind: Kind) -> None:
    """An image rebuilt under the same tag changes no pod spec: roll out what runs older builds."""
    version = versions.project_version(ROOT)
    for component in IMAGE_DOCKERFILES:
        image_id = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", local_image(component, version)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        deployment = kind.output(
            "kubectl",
            "-n",
            NAMESPACE,
            "get",
            "deployment",
            "-o",
            "name",
            "-l",
            f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name={component}",
        ).strip()
        if deployment:
            patch = {
                "spec": {
                    "template": {"metadata": {"annotations": {"fastdining.dev/image-id": image_id}}}
                }
            }
            kind.run(
                "kubectl",
                "-n",
                NAMESPACE,
                "patch",
                deployment,
                "--type",
                "merge",
                "-p",
                json.dumps(patch),
            )
