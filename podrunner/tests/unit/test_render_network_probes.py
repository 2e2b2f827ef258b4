"""Reading the rendered objects, the pods' hosts files and address plan, probe parsing."""

from __future__ import annotations

import base64

import pytest
from fdc_podrunner.network import hosts_file, resolv_conf, service_addresses
from fdc_podrunner.probes import Probe
from fdc_podrunner.render import (
    RenderError,
    container_port,
    objects_data,
    selects,
    service_ports,
    workloads,
)

TEMPLATE = {
    "metadata": {"labels": {"app.kubernetes.io/name": "discord-relay", "app": "relay"}},
    "spec": {"containers": [{"name": "relay", "ports": [{"name": "http", "containerPort": 8800}]}]},
}
DOCUMENTS = [
    {
        "kind": "Deployment",
        "metadata": {"name": "fdc-discord-relay"},
        "spec": {"template": TEMPLATE},
    },
    {
        "kind": "Deployment",
        "metadata": {"name": "fdc-grafana"},
        "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": "grafana"}}}},
    },
    {
        "kind": "Service",
        "metadata": {"name": "fdc-discord-relay"},
        "spec": {"selector": {"app": "relay"}, "ports": [{"port": 80, "targetPort": "http"}]},
    },
    {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": base64.b64encode(b"v").decode()}},
    {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}},
]


def test_only_deployments_with_a_dockerfile_of_ours_are_workloads() -> None:
    [found] = workloads(DOCUMENTS, {"discord-relay": "services/discord-relay/Dockerfile"})
    assert (found.name, found.component, found.namespace) == (
        "fdc-discord-relay",
        "discord-relay",
        "default",
    )
    name = found.pod_name("abcde")
    assert name.startswith("fdc-discord-relay-") and name.endswith("-abcde")
    assert name == found.pod_name("abcde")  # the template hash is stable


def test_services_select_pods_and_name_their_target_ports() -> None:
    [port] = service_ports(DOCUMENTS)
    assert (port.service, port.port, port.target) == ("fdc-discord-relay", 80, "http")
    assert selects(port.selector, TEMPLATE["metadata"]["labels"])
    assert not selects({}, TEMPLATE["metadata"]["labels"])
    assert container_port(TEMPLATE["spec"]["containers"], "http") == 8800
    assert container_port([], "8800") == 8800
    with pytest.raises(RenderError, match="no container port is named 'metrics'"):
        container_port(TEMPLATE["spec"]["containers"], "metrics")


def test_secret_data_is_decoded_and_config_map_data_encoded() -> None:
    assert objects_data(DOCUMENTS, "Secret") == {"s": {"k": b"v"}}
    assert objects_data(DOCUMENTS, "ConfigMap") == {"c": {"k": b"v"}}


def test_hosts_file_names_every_service_under_its_qualified_names() -> None:
    addresses = service_addresses(["prometheus-operated", "fdc-discord-relay", "fdc-discord-relay"])
    assert addresses == {"fdc-discord-relay": "127.0.1.1", "prometheus-operated": "127.0.1.2"}
    text = hosts_file("pod-1", "127.0.0.1", addresses, "monitoring")
    assert "127.0.0.1\tpod-1" in text
    assert (
        "127.0.1.1\tfdc-discord-relay fdc-discord-relay.monitoring "
        "fdc-discord-relay.monitoring.svc fdc-discord-relay.monitoring.svc.cluster.local"
    ) in text
    assert "search monitoring.svc.cluster.local svc.cluster.local cluster.local" in resolv_conf(
        "monitoring"
    )


def test_probes_take_kubernetes_defaults_and_resolve_named_ports() -> None:
    container = TEMPLATE["spec"]["containers"][0]
    probe = Probe.parse(
        {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5}, container
    )
    assert probe == Probe("http", 8800, "/readyz", {}, 0.0, 5.0, 1.0, 3)
    assert Probe.parse({"tcpSocket": {"port": 8800}}, container).kind == "tcp"
    with pytest.raises(ValueError, match="exec"):
        Probe.parse({"exec": {"command": ["true"]}}, container)
