"""Where a Service name leads inside a pod: a Ready pod it selects, a host address, or nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fdc_podrunner.render import ServicePort, Workload
from fdc_podrunner.services import ServiceNetwork


def _workload(name: str, app: str, port: int) -> Workload:
    spec = {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}]}
    return Workload(name, "monitoring", app, {"metadata": {"labels": {"app": app}}, "spec": spec})


@dataclass
class FakePod:
    workload: Workload
    netns: str
    ready: bool
    hosts_path: Path = Path("/nonexistent")
    pod_name: str = "pod"


RELAY = _workload("fdc-discord-relay", "relay", 8800)
API = _workload("fdc-fastdining-api", "api", 8000)
PORTS = [
    ServicePort("fdc-discord-relay", 8800, "http", {"app": "relay"}),
    ServicePort("fdc-fastdining-api", 8000, "http", {"app": "api"}),
    ServicePort("fdc-kube-state-metrics", 8080, 8080, {"app": "kube-state-metrics"}),
]


def _network(pods: list[FakePod]) -> ServiceNetwork:
    host = {
        "prometheus-operated": {9090: ("127.0.0.1", 41234)},
        "alertmanager-operated": {9093: None},
    }
    return ServiceNetwork(PORTS, [RELAY, API], host, lambda: pods)


def test_a_pod_sees_its_own_services_as_itself_and_the_others_at_their_addresses() -> None:
    seen = _network([]).seen_by(API)
    assert seen["fdc-fastdining-api"] == "127.0.0.1"
    others = {name: address for name, address in seen.items() if name != "fdc-fastdining-api"}
    assert len(set(others.values())) == len(others) == 4
    assert all(address.startswith("127.0.1.") for address in others.values())


def test_a_service_leads_to_a_ready_pod_it_selects_on_its_target_port() -> None:
    relay = FakePod(RELAY, "/proc/7/ns/net", ready=False)
    services = _network([relay])
    assert services.endpoint("fdc-discord-relay", 8800) is None  # no Ready endpoint yet
    relay.ready = True
    assert services.endpoint("fdc-discord-relay", 8800) == ("/proc/7/ns/net", "127.0.0.1", 8800)
    assert services.endpoint("fdc-discord-relay", 9999) is None


def test_a_service_that_is_not_ours_leads_to_its_host_address_once_mapped() -> None:
    services = _network([])
    assert services.endpoint("prometheus-operated", 9090) == (None, "127.0.0.1", 41234)
    assert services.endpoint("alertmanager-operated", 9093) is None
    assert services.endpoint("fdc-kube-state-metrics", 8080) is None


def test_a_servable_service_on_a_port_the_pod_binds_itself_is_refused_by_name() -> None:
    clash = _workload("fdc-sloalert-operator", "operator", 9090)
    services = ServiceNetwork(
        PORTS, [clash], {"prometheus-operated": {9090: ("127.0.0.1", 1)}}, lambda: []
    )
    with pytest.raises(ValueError, match="listens on port 9090, which Service prometheus-operated"):
        services._listen(FakePod(clash, "/proc/1/ns/net", True), "prometheus-operated", 9090)
    # kube-state-metrics:8080 is served by nothing here: left out, not refused.
    operator = _workload("fdc-sloalert-operator", "operator", 8080)
    quiet = ServiceNetwork(PORTS, [operator], {}, lambda: [])
    quiet._listen(FakePod(operator, "/proc/1/ns/net", True), "fdc-kube-state-metrics", 8080)
