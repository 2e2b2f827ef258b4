"""The airestaurant chart: SECRET_KEY, the database modes, migrations, hosts, the job label."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from testkit import helm
from testkit.airestaurant_server import manage, serve_airestaurant
from testkit.processes import LOOPBACK, free_port

from .conftest import NAMESPACE

CHART = "airestaurant"
POSTGRES = {"database.existingSecret": "db", "database.existingSecretKey": "url"}


def pod(rendered: helm.Rendered) -> dict[str, Any]:
    return rendered.one("Deployment")["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container["env"]}


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
@pytest.mark.parametrize("release", ["web", "fdc"])
def test_job_is_django_whatever_the_release(release: str, binary: str) -> None:
    rendered = helm.render(CHART, helm=binary, release=release, namespace=NAMESPACE)
    [endpoint] = rendered.one("ServiceMonitor")["spec"]["endpoints"]
    [rule] = [r for r in endpoint["relabelings"] if r.get("targetLabel") == "job"]
    assert rule == {"action": "replace", "targetLabel": "job", "replacement": "django"}
    assert endpoint["port"] == rendered.one("Service")["spec"]["ports"][0]["name"] == "http"
    changed = helm.render(CHART, helm=binary, sets={"serviceMonitor.job": "shop"})
    assert (
        changed.one("ServiceMonitor")["spec"]["endpoints"][0]["relabelings"][0]["replacement"]
        == "shop"
    )


def test_generated_secret_key_is_kept_and_referenced() -> None:
    rendered = helm.render(CHART)
    secret = rendered.one("Secret")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert set(secret["data"]) == {"secret-key"}
    for container in [*pod(rendered)["initContainers"], *pod(rendered)["containers"]]:
        ref = env_of(container)["SECRET_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": secret["metadata"]["name"], "key": "secret-key"}


def test_existing_secret_is_used_and_none_generated() -> None:
    rendered = helm.render(CHART, sets={"existingSecret": "django-key"})
    assert rendered.of_kind("Secret") == []
    [django] = pod(rendered)["containers"]
    assert env_of(django)["SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "django-key"


def test_allowed_hosts_take_the_pod_ip_and_the_service_names() -> None:
    rendered = helm.render(CHART, release="web", namespace="shop", sets={"allowedHosts": "{a.io}"})
    [django] = pod(rendered)["containers"]
    names = [entry["name"] for entry in django["env"]]
    # $(POD_IP) is expanded only from a variable defined earlier in the list.
    assert names.index("POD_IP") < names.index("ALLOWED_HOSTS")
    assert env_of(django)["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    hosts = env_of(django)["ALLOWED_HOSTS"]["value"].split(",")
    service = rendered.one("Service")["metadata"]["name"]
    assert {"$(POD_IP)", service, f"{service}.shop.svc", "a.io"} <= set(hosts)


def test_sqlite_on_a_claim_with_one_replica_and_recreate() -> None:
    rendered = helm.render(CHART)
    deployment = rendered.one("Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = rendered.one("PersistentVolumeClaim")
    [data] = [v for v in pod(rendered)["volumes"] if v["name"] == "data"]
    assert data["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    [django] = pod(rendered)["containers"]
    assert env_of(django)["AIRESTAURANT_DATA_DIR"]["value"] == "/data"
    assert {"name": "data", "mountPath": "/data"} in django["volumeMounts"]


def test_persistence_off_is_an_emptydir() -> None:
    rendered = helm.render(CHART, sets={"persistence.enabled": False})
    assert rendered.of_kind("PersistentVolumeClaim") == []
    [data] = [v for v in pod(rendered)["volumes"] if v["name"] == "data"]
    assert "emptyDir" in data


def test_postgresql_reads_database_url_from_its_secret_and_scales() -> None:
    rendered = helm.render(CHART, sets={**POSTGRES, "replicaCount": 3})
    deployment = rendered.one("Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert "strategy" not in deployment["spec"]  # the default rolling update
    assert rendered.of_kind("PersistentVolumeClaim") == []
    for container in [*pod(rendered)["initContainers"], *pod(rendered)["containers"]]:
        env = env_of(container)
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "db", "key": "url"}
        assert "AIRESTAURANT_DATA_DIR" not in env


def test_migrations_run_before_gunicorn_and_demo_data_on_demand() -> None:
    plain = pod(helm.render(CHART))
    assert [c["command"] for c in plain["initContainers"]] == [
        ["python", "-m", "airestaurant", "migrate", "--no-input"]
    ]
    demo = pod(helm.render(CHART, sets={"demoData": True}))
    assert [c["command"][-1] for c in demo["initContainers"]] == ["--no-input", "seed_demo"]
    [django] = plain["containers"]
    assert "command" not in django  # the image's gunicorn, on 8900
    assert django["ports"][0]["containerPort"] == 8900


def test_notes_say_where_the_data_lives() -> None:
    assert "PersistentVolumeClaim" in helm.notes(CHART)
    assert "lost" in helm.notes(CHART, sets={"persistence.enabled": False})
    assert "PostgreSQL" in helm.notes(CHART, sets=POSTGRES)
    assert "seed-demo" in helm.notes(CHART, sets={"demoData": True})


@pytest.mark.parametrize("binary", helm.HELM_BINARIES)
@pytest.mark.parametrize(
    ("sets", "named"),
    [
        ({"replicaCount": "one"}, "replicaCount"),
        ({"replicaCount": 2}, "replicaCount=2"),  # SQLite: the template refuses it
        ({"databse": {}}, "databse"),
        ({"logLevel": "verbose"}, "logLevel"),
        ({"persistence.accessMode": "ReadManyTimes"}, "accessMode"),
        ({"threads": 0}, "threads"),
    ],
)
def test_wrong_values_are_refused_by_name(sets: dict, named: str, binary: str) -> None:
    helm.assert_refused(CHART, binary, sets, named)


def resolved_env(container: dict[str, Any], rendered: helm.Rendered, pod_ip: str) -> dict[str, str]:
    """The container's env as the kubelet makes it: Secret refs read, $(POD_IP) expanded."""
    secrets = {s["metadata"]["name"]: s["data"] for s in rendered.of_kind("Secret")}
    env: dict[str, str] = {}
    for entry in container["env"]:
        source = entry.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            value = base64.b64decode(secrets[ref["name"]][ref["key"]]).decode()
        elif "fieldRef" in source:
            assert source["fieldRef"]["fieldPath"] == "status.podIP"
            value = pod_ip
        else:
            value = entry["value"].replace("$(POD_IP)", pod_ip)
        env[entry["name"]] = value
    return env


@pytest.mark.integration
def test_the_real_site_migrates_seeds_and_answers_probes_and_scrapes(tmp_path: Path) -> None:
    """Init containers then gunicorn, with the chart's env: the pod IP and Service names pass."""
    rendered = helm.render(CHART, namespace=NAMESPACE, sets={"demoData": True})
    spec = pod(rendered)
    port = free_port()
    data_dir = tmp_path / "data"
    for container in [*spec["initContainers"], *spec["containers"]]:
        env = resolved_env(container, rendered, LOOPBACK)
        assert env["AIRESTAURANT_DATA_DIR"] == "/data"  # the volume; here a temporary directory
        env |= {"AIRESTAURANT_DATA_DIR": str(data_dir), "AIRESTAURANT_BIND": f"{LOOPBACK}:{port}"}
        if "command" in container:
            assert container["command"][:3] == ["python", "-m", "airestaurant"]
            manage(env, *container["command"][3:])
    service = rendered.one("Service")["metadata"]["name"]
    with serve_airestaurant(env, tmp_path / "gunicorn.log") as server:
        for host in (f"{LOOPBACK}:{port}", f"{service}:8900", f"{service}.{NAMESPACE}.svc:8900"):
            answer = httpx.get(f"{server.base_url}/healthz", headers={"Host": host}, timeout=10)
            assert answer.status_code == 200, (host, answer.text)
        assert httpx.get(f"{server.base_url}/metrics", timeout=10).status_code == 200
        refused = httpx.get(f"{server.base_url}/healthz", headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert httpx.get(f"{server.base_url}/restaurants/", timeout=10).json()
