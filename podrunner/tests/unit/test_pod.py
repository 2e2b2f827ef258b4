"""One pod's containers as sandboxes: files written, mounts, user, env, argv."""

from __future__ import annotations

from pathlib import Path

import pytest
from fdc_podrunner.dockerfile import ImageConfig
from fdc_podrunner.image import Image
from fdc_podrunner.pod import PodContext, prepare, sandbox
from fdc_podrunner.render import Workload
from fdc_podrunner.resolve import PodMeta, ResolveError
from fdc_podrunner.sandbox import Mount

IMAGE = Image(
    name="relay",
    config=ImageConfig(
        env={"PATH": "/app/.venv/bin:/usr/bin"},
        user="10001:10001",
        workdir="/app",
        entrypoint=[],
        cmd=["python", "-m", "relay"],
    ),
    mounts=(Mount("ro", "/app/.venv", "/cache/venv"),),
    python_prefix="/opt/python",
)
SPEC = {
    "securityContext": {"runAsUser": 10001, "runAsGroup": 10002, "supplementalGroups": [3]},
    "containers": [
        {
            "name": "relay",
            "args": ["--port", "$(PORT)"],
            "env": [{"name": "PORT", "value": "8800"}],
            "securityContext": {"readOnlyRootFilesystem": True},
            "volumeMounts": [
                {"name": "secret", "mountPath": "/etc/relay/token", "subPath": "token"},
                {"name": "tmp", "mountPath": "/tmp"},
                {"name": "data", "mountPath": "/data"},
            ],
        }
    ],
    "volumes": [
        {"name": "secret", "secret": {"secretName": "relay", "defaultMode": 0o440}},
        {"name": "tmp", "emptyDir": {}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "relay-data"}},
    ],
}


def _context(tmp_path: Path, spec: dict) -> PodContext:
    workload = Workload("fdc-discord-relay", "monitoring", "discord-relay", {"spec": spec})
    return PodContext(
        workload=workload,
        meta=PodMeta("relay-x", "monitoring", {}, {}, "127.0.0.1"),
        image=IMAGE,
        directory=tmp_path / "pod",
        pvc_root=tmp_path / "claims",
        secrets={"relay": {"token": b"s3cret"}},
        config_maps={},
        services={"fdc-fastdining-api": "127.0.1.1"},
        netns="/proc/9/ns/net",
    )


def test_a_container_gets_the_pods_user_files_and_mounts(tmp_path: Path) -> None:
    context = _context(tmp_path, SPEC)
    declared = prepare(context)
    token = tmp_path / "pod" / "volumes" / "secret" / "token"
    assert token.read_bytes() == b"s3cret"
    assert token.stat().st_mode & 0o777 == 0o440
    assert "127.0.1.1\tfdc-fastdining-api" in (tmp_path / "pod" / "etc" / "hosts").read_text()
    assert (tmp_path / "claims" / "relay-data").is_dir()
    box = sandbox(context, SPEC["containers"][0], declared, info_fd=5)
    assert (box.uid, box.gid, list(box.groups)) == (10001, 10002, [3])
    # `args` replaces the image's CMD (no ENTRYPOINT here), with $(PORT) expanded.
    assert box.argv == ["--port", "8800"]
    assert box.env["HOME"] == "/" and box.env["PORT"] == "8800" and "KUBECONFIG" not in box.env
    assert box.read_only_root and box.workdir == "/app" and box.netns == "/proc/9/ns/net"
    mounts = {mount.target: mount for mount in box.mounts}
    assert mounts["/etc/relay/token"] == Mount("ro", "/etc/relay/token", str(token))
    assert mounts["/tmp"] == Mount("rw", "/tmp", str(tmp_path / "pod" / "empty-dirs" / "tmp"))
    assert mounts["/data"] == Mount("rw", "/data", str(tmp_path / "claims" / "relay-data"))
    assert mounts["/app/.venv"].source == "/cache/venv"
    assert mounts["/opt/python"] == Mount("ro", "/opt/python", "/opt/python")


def test_run_as_non_root_refuses_uid_zero(tmp_path: Path) -> None:
    spec = {**SPEC, "securityContext": {"runAsUser": 0, "runAsNonRoot": True}}
    context = _context(tmp_path, spec)
    with pytest.raises(ResolveError, match="runAsNonRoot, but UID 0"):
        sandbox(context, spec["containers"][0], prepare(context), info_fd=5)
