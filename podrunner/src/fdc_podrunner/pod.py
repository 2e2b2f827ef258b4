"""One pod's containers as sandboxes: volumes written to disk, mounts, user, env, argv.

Thin I/O over the pure modules: it writes the Secret/ConfigMap files (mode, fsGroup ownership),
makes the PVC folder, the pod's /etc/hosts, /etc/resolv.conf and /etc/hostname, and returns a
`sandbox.Sandbox` per container.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fdc_podrunner import network, resolve
from fdc_podrunner.dockerfile import container_argv
from fdc_podrunner.image import Image
from fdc_podrunner.render import Workload
from fdc_podrunner.sandbox import Mount, Sandbox, describe_system, system_mounts

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# An emptyDir is a folder of the pod's: shared by its containers (the init container's writes are
# there for the next), kept across a container's restart, gone with the pod. Its sizeLimit is
# not enforced here.
EMPTY_DIRS = "empty-dirs"


@dataclass(frozen=True)
class PodContext:
    workload: Workload
    meta: resolve.PodMeta
    image: Image
    directory: Path  # this pod's folder under the run's workdir
    pvc_root: Path  # PVCs are shared by name across pods and restarts, like a real claim
    secrets: resolve.ObjectData
    config_maps: resolve.ObjectData
    services: Mapping[str, str]  # Service name -> address in the pod
    netns: str
    kubeconfig: str | None = None  # text of the kubeconfig to mount (see `_service_account`)


def _user(spec: Mapping[str, Any], container: Mapping[str, Any], image: Image) -> tuple[int, int]:
    pod_context = spec.get("securityContext") or {}
    own = container.get("securityContext") or {}
    image_user, _, image_group = (image.config.user or "0").partition(":")
    uid = own.get("runAsUser", pod_context.get("runAsUser", image_user))
    gid = own.get("runAsGroup", pod_context.get("runAsGroup", image_group or uid))
    if not str(uid).isdigit() or not str(gid).isdigit():
        raise resolve.ResolveError(f"container {container['name']}: user {uid}:{gid} is a name")
    if int(uid) == 0 and own.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
        raise resolve.ResolveError(f"container {container['name']}: runAsNonRoot, but UID 0")
    return int(uid), int(gid)


def _write_volume(folder: Path, volume: resolve.Volume, fs_group: int | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    for item in volume.files:
        path = folder / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.content)
        path.chmod(item.mode)
        if fs_group is not None:
            os.chown(path, 0, fs_group)


def prepare(pod: PodContext) -> dict[str, resolve.Volume]:
    """Write what the pod's volumes and /etc files hold; returns the declared volumes."""
    spec = pod.workload.spec
    fs_group = (spec.get("securityContext") or {}).get("fsGroup")
    declared = resolve.volumes(spec, pod.secrets, pod.config_maps)
    for volume in declared.values():
        if volume.kind == "files":
            _write_volume(pod.directory / "volumes" / volume.name, volume, fs_group)
        elif volume.kind == "emptyDir":
            folder = pod.directory / EMPTY_DIRS / volume.name
            shutil.rmtree(folder, ignore_errors=True)  # empty when the pod starts
            folder.mkdir(parents=True)
            folder.chmod(0o777)  # an emptyDir: every user of the pod may write
        elif volume.kind == "pvc":
            claim = pod.pvc_root / volume.claim
            claim.mkdir(parents=True, exist_ok=True)
            if fs_group is not None:  # the kubelet gives the volume to fsGroup, setgid
                os.chown(claim, 0, fs_group)
                claim.chmod(0o2775)  # fsGroup may write, as in a pod
    etc = pod.directory / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    hosts = network.hosts_file(
        pod.meta.name, pod.meta.pod_ip, dict(pod.services), pod.meta.namespace
    )
    (etc / "hosts").write_text(hosts, encoding="utf-8")
    (etc / "resolv.conf").write_text(network.resolv_conf(pod.meta.namespace), encoding="utf-8")
    (etc / "hostname").write_text(pod.meta.name + "\n", encoding="utf-8")
    if pod.kubeconfig is not None and spec.get("automountServiceAccountToken", True):
        account = pod.directory / "serviceaccount"
        account.mkdir(exist_ok=True)
        (account / "kubeconfig").write_text(pod.kubeconfig, encoding="utf-8")
        (account / "namespace").write_text(pod.meta.namespace, encoding="utf-8")
        for path in account.iterdir():
            path.chmod(0o644)
    return declared


def _mounts(
    pod: PodContext, container: Mapping[str, Any], declared: Mapping[str, resolve.Volume]
) -> list[Mount]:
    mounts = system_mounts(describe_system())
    etc = pod.directory / "etc"
    mounts += [Mount("ro", f"/etc/{name}", str(etc / name)) for name in ("hosts", "hostname")]
    mounts.append(Mount("ro", "/etc/resolv.conf", str(etc / "resolv.conf")))
    mounts.append(Mount("ro", pod.image.python_prefix, pod.image.python_prefix))
    mounts += list(pod.image.mounts)
    if (pod.directory / "serviceaccount").is_dir():
        mounts.append(Mount("ro", SERVICE_ACCOUNT_DIR, str(pod.directory / "serviceaccount")))
    for mount in resolve.volume_mounts(container, declared):
        volume = declared[mount.volume]
        if volume.kind == "emptyDir":
            source = pod.directory / EMPTY_DIRS / volume.name
            read_only = mount.read_only
        elif volume.kind == "pvc":
            source = pod.pvc_root / volume.claim
            read_only = mount.read_only
        else:
            source = pod.directory / "volumes" / volume.name
            read_only = True  # Secret and ConfigMap volumes are always read-only
        if mount.sub_path:
            source = source / mount.sub_path
        mounts.append(Mount("ro" if read_only else "rw", mount.mount_path, str(source)))
    return mounts


def sandbox(
    pod: PodContext,
    container: Mapping[str, Any],
    declared: Mapping[str, resolve.Volume],
    info_fd: int,
) -> Sandbox:
    spec = pod.workload.spec
    env = resolve.container_env(
        dict(container), pod.image.config.env, pod.meta, pod.secrets, pod.config_maps
    )
    if (pod.directory / "serviceaccount").is_dir():
        # THE ONE DIFFERENCE from a pod: the API server is the test API server (CRDs only, client
        # certificates), reached through a kubeconfig mounted where the service account token
        # would be, instead of a token and KUBERNETES_SERVICE_HOST.
        env["KUBECONFIG"] = f"{SERVICE_ACCOUNT_DIR}/kubeconfig"
    argv = container_argv(pod.image.config, container.get("command", []), container.get("args", []))
    if not argv:
        raise resolve.ResolveError(f"container {container['name']}: no command, no CMD")
    uid, gid = _user(spec, container, pod.image)
    pod_context = spec.get("securityContext") or {}
    groups = [g for g in (pod_context.get("fsGroup"),) if g is not None]
    groups += list(pod_context.get("supplementalGroups", []))
    read_only = bool((container.get("securityContext") or {}).get("readOnlyRootFilesystem"))
    return Sandbox(
        argv=resolve.argv_expanded(argv, env),
        env=env,
        workdir=container.get("workingDir") or pod.image.config.workdir,
        mounts=_mounts(pod, container, declared),
        uid=uid,
        gid=gid,
        groups=groups,
        hostname=pod.meta.name,
        netns=pod.netns,
        info_fd=info_fd,
        read_only_root=read_only,
    )
