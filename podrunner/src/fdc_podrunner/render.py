"""Read what `helm template` rendered: our Deployments, their Services, Secrets and ConfigMaps.

Pure: parsed documents in, plain data out. Which Deployments are ours, and which Dockerfile builds
each one's image, is the caller's table (fdc_make.kind.IMAGE_DOCKERFILES, what `make up` builds
the images from), matched on the pod template's `app.kubernetes.io/name`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
NAME_LABEL = "app.kubernetes.io/name"


class RenderError(ValueError):
    pass


@dataclass(frozen=True)
class Workload:
    """One Deployment of ours: its name, the component (chart) it belongs to, its pod template."""

    name: str
    namespace: str
    component: str
    template: Manifest

    @property
    def spec(self) -> Manifest:
        return self.template["spec"]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.template.get("metadata", {}).get("labels", {}))

    def pod_name(self, suffix: str) -> str:
        """`<deployment>-<pod-template-hash>-<suffix>`, as a ReplicaSet names its pods."""
        text = json.dumps(self.template, sort_keys=True).encode()
        return f"{self.name}-{hashlib.sha256(text).hexdigest()[:10]}-{suffix}"


def workloads(
    documents: Sequence[Manifest], components: Mapping[str, str], namespace: str = "default"
) -> list[Workload]:
    """The rendered Deployments whose component has a Dockerfile in `components`."""
    found = []
    for doc in documents:
        if doc.get("kind") != "Deployment":
            continue
        template = doc["spec"]["template"]
        component = template.get("metadata", {}).get("labels", {}).get(NAME_LABEL)
        if component in components:
            metadata = doc["metadata"]
            found.append(
                Workload(
                    name=metadata["name"],
                    namespace=metadata.get("namespace", namespace),
                    component=component,
                    template=template,
                )
            )
    return found


@dataclass(frozen=True)
class ServicePort:
    service: str
    port: int
    target: int | str  # a number, or a container port's name
    selector: dict[str, str]


def service_ports(documents: Sequence[Manifest]) -> list[ServicePort]:
    ports = []
    for doc in documents:
        if doc.get("kind") != "Service":
            continue
        spec = doc.get("spec", {})
        for port in spec.get("ports", []):
            ports.append(
                ServicePort(
                    service=doc["metadata"]["name"],
                    port=int(port["port"]),
                    target=port.get("targetPort", port["port"]),
                    selector=dict(spec.get("selector") or {}),
                )
            )
    return ports


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def container_port(containers: Sequence[Manifest], target: int | str) -> int:
    """A Service's targetPort as a number: a name is looked up in the containers' ports."""
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in containers:
        for port in container.get("ports", []):
            if port.get("name") == target:
                return int(port["containerPort"])
    raise RenderError(f"no container port is named {target!r}")


def objects_data(documents: Sequence[Manifest], kind: str) -> dict[str, dict[str, bytes]]:
    """Secret or ConfigMap name -> key -> bytes (`data` decoded for Secrets, `stringData` too)."""
    found: dict[str, dict[str, bytes]] = {}
    for doc in documents:
        if doc.get("kind") != kind:
            continue
        data: dict[str, bytes] = {}
        for key, value in (doc.get("data") or {}).items():
            data[key] = base64.b64decode(value) if kind == "Secret" else str(value).encode()
        for key, value in (doc.get("binaryData") or {}).items():
            data[key] = base64.b64decode(value)
        for key, value in (doc.get("stringData") or {}).items():
            data[key] = str(value).encode()
        found[doc["metadata"]["name"]] = data
    return found
