"""Environment and volumes, resolved as the kubelet resolves them."""

from __future__ import annotations

import pytest
from fdc_podrunner.resolve import (
    PodMeta,
    ResolveError,
    Volume,
    VolumeFile,
    container_env,
    expand,
    volume_mounts,
    volumes,
)

POD = PodMeta(
    name="relay-5d-x1",
    namespace="monitoring",
    labels={"app.kubernetes.io/name": "relay"},
    annotations={"a": "b"},
    pod_ip="127.0.0.1",
)
SECRETS = {"relay": {"token": b"s3cret", "webhook": b"https://example.invalid/hook"}}
CONFIG_MAPS = {"settings": {"level": b"INFO"}}


def test_env_is_the_image_env_then_the_rendered_env_resolved() -> None:
    container = {
        "name": "relay",
        "env": [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "HOSTS", "value": "$(POD_IP),localhost,$(UNDEFINED),$$(POD_IP)"},
            {"name": "POD_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {
                "name": "APP",
                "valueFrom": {
                    "fieldRef": {"fieldPath": "metadata.labels['app.kubernetes.io/name']"}
                },
            },
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "relay", "key": "token"}}},
            {
                "name": "LEVEL",
                "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}},
            },
            {"name": "PATH", "value": "/override"},
        ],
    }
    env = container_env(
        container, {"PATH": "/app/.venv/bin", "LANG": "C.UTF-8"}, POD, SECRETS, CONFIG_MAPS
    )
    assert env == {
        "PATH": "/override",
        "LANG": "C.UTF-8",
        "HOSTNAME": "relay-5d-x1",
        "HOME": "/",
        "POD_IP": "127.0.0.1",
        "HOSTS": "127.0.0.1,localhost,$(UNDEFINED),$(POD_IP)",
        "POD_ID": "relay-5d-x1",
        "APP": "relay",
        "TOKEN": "s3cret",
        "LEVEL": "INFO",
    }


def test_a_missing_secret_key_is_named_unless_optional() -> None:
    ref = {"name": "relay", "key": "nope"}
    container = {"name": "relay", "env": [{"name": "X", "valueFrom": {"secretKeyRef": ref}}]}
    with pytest.raises(ResolveError, match="container relay: env X: Secret 'relay': no key 'nope'"):
        container_env(container, {}, POD, SECRETS, CONFIG_MAPS)
    ref["optional"] = True
    assert "X" not in container_env(container, {}, POD, SECRETS, CONFIG_MAPS)


def test_expand_leaves_unknown_references_and_unescapes_dollars() -> None:
    assert expand("$(A)-$(B)-$$(A)", {"A": "1"}) == "1-$(B)-$(A)"


def test_volumes_secret_items_projected_emptydir_and_pvc() -> None:
    spec = {
        "volumes": [
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "relay-data"}},
            {
                "name": "secret",
                "secret": {
                    "secretName": "relay",
                    "defaultMode": 0o440,
                    "items": [{"key": "token", "path": "auth/token"}],
                },
            },
            {
                "name": "projected",
                "projected": {
                    "defaultMode": 0o400,
                    "sources": [
                        {
                            "secret": {
                                "name": "relay",
                                "items": [{"key": "webhook", "path": "hook", "mode": 0o444}],
                            }
                        },
                        {"configMap": {"name": "settings"}},
                    ],
                },
            },
        ]
    }
    found = volumes(spec, SECRETS, CONFIG_MAPS)
    assert found["tmp"] == Volume("tmp", "emptyDir")
    assert found["data"] == Volume("data", "pvc", claim="relay-data")
    assert found["secret"].files == (VolumeFile("auth/token", b"s3cret", 0o440),)
    assert found["projected"].files == (
        VolumeFile("hook", b"https://example.invalid/hook", 0o444),
        VolumeFile("level", b"INFO", 0o400),
    )


def test_an_unrendered_secret_or_unsupported_volume_is_named() -> None:
    with pytest.raises(ResolveError, match="volume s: Secret 'gone' is not rendered"):
        volumes({"volumes": [{"name": "s", "secret": {"secretName": "gone"}}]}, SECRETS, {})
    with pytest.raises(ResolveError, match=r"volume h: \['hostPath'\] is not supported"):
        volumes({"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}, {}, {})


def test_volume_mounts_keep_sub_path_and_refuse_an_undeclared_volume() -> None:
    declared = {"data": Volume("data", "pvc", claim="c")}
    container = {
        "name": "app",
        "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": "db", "readOnly": True}],
    }
    [mount] = volume_mounts(container, declared)
    assert (mount.mount_path, mount.sub_path, mount.read_only) == ("/data", "db", True)
    container["volumeMounts"].append({"name": "other", "mountPath": "/x"})
    with pytest.raises(ResolveError, match="volumeMount 'other' has no volume"):
        volume_mounts(container, declared)
