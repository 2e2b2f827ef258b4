"""A container's environment and volumes, resolved as the kubelet resolves them. Pure.

Environment: the image's ENV, then `envFrom`, then `env` in order, `$(VAR)` expanded against what
is defined before it, `fieldRef`, `secretKeyRef` and `configMapKeyRef` looked up in the pod's
metadata and the rendered objects; HOSTNAME is the pod's name, HOME is `/` (no passwd entry).
Volumes: each mount becomes a bind of a folder the caller prepares (Secret and ConfigMap files
with their `items` and modes, a PVC's folder) or an emptyDir folder, with `subPath` honoured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]
ObjectData = Mapping[str, Mapping[str, bytes]]
_REFERENCE = re.compile(r"\$\$|\$\((\w+)\)")
DEFAULT_MODE = 0o644


class ResolveError(ValueError):
    pass


@dataclass(frozen=True)
class PodMeta:
    name: str
    namespace: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    pod_ip: str
    service_account: str = "default"
    node_name: str = "podrunner"


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)`: a defined variable is replaced, an undefined one left as written,
    `$$` is a literal `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, value)


def field_value(path: str, pod: PodMeta) -> str:
    simple = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "status.podIP": pod.pod_ip,
        "status.podIPs": pod.pod_ip,
        "status.hostIP": pod.pod_ip,
        "spec.nodeName": pod.node_name,
        "spec.serviceAccountName": pod.service_account,
    }
    if path in simple:
        return simple[path]
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        source = pod.labels if match.group(1) == "labels" else pod.annotations
        return source.get(match.group(2), "")
    raise ResolveError(f"fieldRef.fieldPath {path!r} is not supported")


def _key(objects: ObjectData, kind: str, ref: Manifest, what: str) -> str | None:
    data = objects.get(ref["name"])
    if data is None or ref["key"] not in data:
        if ref.get("optional"):
            return None
        missing = "no such object" if data is None else f"no key {ref['key']!r}"
        raise ResolveError(f"{what}: {kind} {ref['name']!r}: {missing}")
    return data[ref["key"]].decode()


def container_env(
    container: Manifest,
    image_env: Mapping[str, str],
    pod: PodMeta,
    secrets: ObjectData,
    config_maps: ObjectData,
) -> dict[str, str]:
    name = container["name"]
    env = {**image_env, "HOSTNAME": pod.name, "HOME": "/"}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        for kind, objects, field in (
            ("Secret", secrets, "secretRef"),
            ("ConfigMap", config_maps, "configMapRef"),
        ):
            ref = source.get(field)
            if ref is None:
                continue
            data = objects.get(ref["name"])
            if data is None and not ref.get("optional"):
                raise ResolveError(f"container {name}: envFrom {kind} {ref['name']!r}: none")
            env.update({prefix + k: v.decode() for k, v in (data or {}).items()})
    for item in container.get("env", []):
        what = f"container {name}: env {item['name']}"
        if "value" in item:
            env[item["name"]] = expand(str(item["value"]), env)
            continue
        source = item.get("valueFrom", {})
        value: str | None
        if "fieldRef" in source:
            value = field_value(source["fieldRef"]["fieldPath"], pod)
        elif "secretKeyRef" in source:
            value = _key(secrets, "Secret", source["secretKeyRef"], what)
        elif "configMapKeyRef" in source:
            value = _key(config_maps, "ConfigMap", source["configMapKeyRef"], what)
        elif not source:
            value = ""
        else:
            raise ResolveError(f"{what}: valueFrom {sorted(source)} is not supported")
        if value is not None:
            env[item["name"]] = value
    return env


def argv_expanded(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    return [expand(word, env) for word in argv]


@dataclass(frozen=True)
class VolumeFile:
    path: str  # relative to the volume's folder
    content: bytes
    mode: int


@dataclass(frozen=True)
class Volume:
    """`kind`: "files" (Secret/ConfigMap: `files` to write, then bound read-only), "pvc" (a
    folder of its own, `claim`), "emptyDir" (a folder of the pod's)."""

    name: str
    kind: str
    files: tuple[VolumeFile, ...] = ()
    claim: str = ""


def volumes(pod_spec: Manifest, secrets: ObjectData, config_maps: ObjectData) -> dict[str, Volume]:
    found = {}
    for volume in pod_spec.get("volumes", []):
        name = volume["name"]
        if "emptyDir" in volume:
            found[name] = Volume(name, "emptyDir")
        elif "persistentVolumeClaim" in volume:
            found[name] = Volume(name, "pvc", claim=volume["persistentVolumeClaim"]["claimName"])
        elif "secret" in volume:
            source = volume["secret"]
            data = _object(secrets, "Secret", source.get("secretName", ""), source, name)
            found[name] = Volume(name, "files", files=_files(data, source, name))
        elif "configMap" in volume:
            source = volume["configMap"]
            data = _object(config_maps, "ConfigMap", source.get("name", ""), source, name)
            found[name] = Volume(name, "files", files=_files(data, source, name))
        elif "projected" in volume:
            found[name] = Volume(name, "files", files=_projected(volume, secrets, config_maps))
        else:
            kinds = sorted(set(volume) - {"name"})
            raise ResolveError(f"volume {name}: {kinds} is not supported")
    return found


def _projected(
    volume: Manifest, secrets: ObjectData, config_maps: ObjectData
) -> tuple[VolumeFile, ...]:
    """A projected volume's Secret and ConfigMap sources, into one folder."""
    name = volume["name"]
    projected = volume["projected"]
    default = {"defaultMode": projected.get("defaultMode", DEFAULT_MODE)}
    files: list[VolumeFile] = []
    for source in projected.get("sources", []):
        if "secret" in source:
            ref = source["secret"]
            data = _object(secrets, "Secret", ref.get("name", ""), ref, name)
        elif "configMap" in source:
            ref = source["configMap"]
            data = _object(config_maps, "ConfigMap", ref.get("name", ""), ref, name)
        else:
            raise ResolveError(f"volume {name}: projected {sorted(source)} is not supported")
        files += _files(data, {**default, **ref}, name)
    return tuple(files)


def _object(
    objects: ObjectData, kind: str, object_name: str, source: Manifest, volume: str
) -> Mapping[str, bytes]:
    data = objects.get(object_name)
    if data is None:
        if source.get("optional"):
            return {}
        raise ResolveError(f"volume {volume}: {kind} {object_name!r} is not rendered")
    return data


def _files(data: Mapping[str, bytes], source: Manifest, volume: str) -> tuple[VolumeFile, ...]:
    default = int(source.get("defaultMode", DEFAULT_MODE))
    items = source.get("items")
    if items is None:
        return tuple(VolumeFile(key, value, default) for key, value in sorted(data.items()))
    files = []
    for item in items:
        if item["key"] not in data:
            if source.get("optional"):
                continue
            raise ResolveError(f"volume {volume}: items: no key {item['key']!r}")
        files.append(VolumeFile(item["path"], data[item["key"]], int(item.get("mode", default))))
    return tuple(files)


@dataclass(frozen=True)
class VolumeMount:
    volume: str
    mount_path: str
    sub_path: str
    read_only: bool


def volume_mounts(container: Manifest, declared: Mapping[str, Volume]) -> list[VolumeMount]:
    mounts = []
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in declared:
            raise ResolveError(
                f"container {container['name']}: volumeMount {mount['name']!r} has no volume"
            )
        mounts.append(
            VolumeMount(
                volume=mount["name"],
                mount_path=mount["mountPath"],
                sub_path=mount.get("subPath", ""),
                read_only=bool(mount.get("readOnly", False)),
            )
        )
    return mounts
