"""The umbrella's NetworkPolicies on the kind cluster of `make up` (issue 24, finding 7).

kind's CNI (kindnet) enforces NetworkPolicies. Connections are tried from inside the install's
pods (their own Python, `kubectl exec`), so what is checked is pod-to-pod traffic, the traffic
the policies govern (kubectl port-forward bypasses them):
- the relay's 8800 is closed to an app (only Alertmanager, Grafana and Prometheus may post or
  scrape; test_e2e_alerts shows Alertmanager's notifications arriving);
- an app's port is closed to the other app (only Prometheus, and the ingress it is given);
- Alertmanager's API is closed to an app, though it shares the namespace (only Prometheus,
  Grafana and Alertmanager's replicas; test_e2e_alerts shows Prometheus' alerts arriving);
- Prometheus still scrapes every target of ours (the allowed side of each policy).
"""

from __future__ import annotations

import json

import pytest
from fdc_make import budgets

from .cluster import NAMESPACE, RELEASE, Cluster

# TCP connect with a short timeout: a NetworkPolicy drops the SYN, so "blocked" is a timeout.
_PROBE = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()\n"
    "    print('open')\n"
    "except OSError:\n"
    "    print('blocked')\n"
)
RELAY = f"{RELEASE}-discord-relay"
ALERTMANAGER = "alertmanager-operated"


def _connect(cluster: Cluster, source: str, host: str, port: int) -> str:
    """'open' or 'blocked': a TCP connection from `source`'s pod to host:port."""
    output = cluster.kubectl(
        "-n", NAMESPACE, "exec", cluster.deployment(source), "--",
        "python", "-c", _PROBE, host, str(port),
        timeout=60.0,
    )  # fmt: skip
    return output.strip().splitlines()[-1]


def _service_port(cluster: Cluster, component: str) -> tuple[str, int]:
    [service] = cluster.items(
        "service", "-l", f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name={component}"
    )
    return service["metadata"]["name"], service["spec"]["ports"][0]["port"]


@pytest.mark.timeout(budgets.ROLLOUT)
def test_the_policies_are_installed(cluster: Cluster) -> None:
    names = {item["metadata"]["name"] for item in cluster.items("networkpolicy")}
    for component in ("fastdining-api", "airestaurant", "discord-relay", "sloalert-operator"):
        assert f"{RELEASE}-{component}" in names, names
    assert f"{RELEASE}-fdc-stack-alertmanager" in names, names


@pytest.mark.timeout(budgets.ROLLOUT)
def test_an_app_cannot_post_to_the_relay(cluster: Cluster) -> None:
    assert _connect(cluster, "fastdining-api", RELAY, 8800) == "blocked"


@pytest.mark.timeout(budgets.ROLLOUT)
def test_an_app_cannot_reach_the_other_app(cluster: Cluster) -> None:
    host, port = _service_port(cluster, "fastdining-api")
    assert _connect(cluster, "airestaurant", host, port) == "blocked"
    host, port = _service_port(cluster, "airestaurant")
    assert _connect(cluster, "fastdining-api", host, port) == "blocked"


@pytest.mark.timeout(budgets.ROLLOUT)
def test_an_app_cannot_reach_alertmanagers_api(cluster: Cluster) -> None:
    assert _connect(cluster, "fastdining-api", ALERTMANAGER, 9093) == "blocked"


@pytest.mark.timeout(budgets.SCRAPE)
def test_prometheus_still_scrapes_every_target_of_ours(cluster: Cluster) -> None:
    """The allowed side: every target of this release is up (Prometheus' own API, read
    through the API server's service proxy)."""
    raw = cluster.kubectl(
        "get", "--raw",
        f"/api/v1/namespaces/{NAMESPACE}/services/prometheus-operated:9090/proxy/api/v1/targets",
    )  # fmt: skip
    targets = [
        t
        for t in json.loads(raw)["data"]["activeTargets"]
        if t["labels"].get("namespace") == NAMESPACE and t["labels"].get("job") in {
            "fastapi", "django", f"{RELEASE}-discord-relay", f"{RELEASE}-sloalert-operator"
        }
    ]  # fmt: skip
    assert len(targets) >= 4, [t["labels"] for t in targets]
    assert all(t["health"] == "up" for t in targets), [
        (t["labels"].get("job"), t["lastError"]) for t in targets
    ]
