"""fdc_local.rendered: the wiring read from rendered manifests, and what it refuses."""

from __future__ import annotations

import base64

import pytest
import yaml
from fdc_local import rendered

SERVICE = {
    "kind": "Service",
    "metadata": {
        "name": "fdc-fastdining-api",
        "namespace": "monitoring",
        "labels": {"app.kubernetes.io/name": "fastdining-api", "tier": "api"},
    },
    "spec": {
        "selector": {"app.kubernetes.io/name": "fastdining-api"},
        "ports": [{"name": "http", "port": 8000, "targetPort": "http"}],
    },
}
DEPLOYMENT = {
    "kind": "Deployment",
    "metadata": {"name": "fdc-fastdining-api"},
    "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": "fastdining-api"}}}},
}


def monitor(**endpoint: object) -> dict:
    return {
        "kind": "ServiceMonitor",
        "metadata": {"name": "fdc-fastdining-api"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "fastdining-api"}},
            "endpoints": [{"port": "http", "path": "/metrics", **endpoint}],
        },
    }


def test_the_job_is_the_services_name_then_the_relabelings() -> None:
    [plain] = rendered.scrape_endpoints([SERVICE, monitor()])
    assert plain.labels == {
        "job": "fdc-fastdining-api",
        "namespace": "monitoring",
        "service": "fdc-fastdining-api",
        "endpoint": "http",
    }
    relabel = [{"action": "replace", "replacement": "fastapi", "targetLabel": "job"}]
    [relabelled] = rendered.scrape_endpoints([SERVICE, monitor(relabelings=relabel)])
    assert relabelled.labels["job"] == "fastapi"
    assert (relabelled.service, relabelled.port_name, relabelled.path) == (
        "fdc-fastdining-api",
        "http",
        "/metrics",
    )


def test_job_label_takes_the_services_label() -> None:
    with_job_label = monitor()
    with_job_label["spec"]["jobLabel"] = "tier"
    [endpoint] = rendered.scrape_endpoints([SERVICE, with_job_label])
    assert endpoint.labels["job"] == "api"


def test_a_relabeling_it_cannot_apply_is_refused_naming_the_monitor() -> None:
    keep = [{"action": "keep", "sourceLabels": ["__name__"], "regex": "up"}]
    with pytest.raises(ValueError, match="ServiceMonitor fdc-fastdining-api"):
        rendered.scrape_endpoints([SERVICE, monitor(relabelings=keep)])


def test_service_ports_name_the_deployment_they_reach() -> None:
    [port] = rendered.service_ports([SERVICE, DEPLOYMENT])
    assert (port.service, port.port, port.name, port.target_port, port.deployment) == (
        "fdc-fastdining-api",
        8000,
        "http",
        "http",
        "fdc-fastdining-api",
    )


def _secret(name: str, config: dict) -> dict:
    encoded = base64.b64encode(yaml.safe_dump(config).encode()).decode()
    return {"kind": "Secret", "metadata": {"name": name}, "data": {"alertmanager.yaml": encoded}}


def test_the_alertmanager_config_is_read_from_the_rendered_secret() -> None:
    config = {"route": {"receiver": "r"}, "receivers": [{"name": "r"}]}
    manifests = [_secret("alertmanager-fdc-kube-prometheus-stack-alertmanager", config)]
    assert rendered.alertmanager_config(manifests) == config
    with pytest.raises(LookupError, match="one Alertmanager config Secret"):
        rendered.alertmanager_config([])


def test_only_service_names_are_mapped_and_an_unknown_one_is_refused() -> None:
    config = {
        "receivers": [
            {
                "name": "relay",
                "webhook_configs": [
                    {
                        "url": "http://fdc-discord-relay:8800/alertmanager",
                        "http_config": {"authorization": {"credentials_file": "/etc/x/token"}},
                    }
                ],
            }
        ]
    }
    mapped = rendered.map_service_urls(config, {"fdc-discord-relay:8800": "127.0.0.1:41234"})
    [webhook] = mapped["receivers"][0]["webhook_configs"]
    assert webhook["url"] == "http://127.0.0.1:41234/alertmanager"
    assert webhook["http_config"] == {"authorization": {"credentials_file": "/etc/x/token"}}
    with pytest.raises(ValueError, match="fdc-discord-relay:8800"):
        rendered.map_service_urls(config, {})


def test_match_expressions_select_and_other_monitors_are_left_out() -> None:
    expressions = monitor()
    expressions["spec"]["selector"] = {
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]
    }
    assert len(rendered.scrape_endpoints([SERVICE, expressions])) == 1
    kubelet = monitor()
    kubelet["spec"]["selector"] = {"matchLabels": {"k8s-app": "kubelet"}}
    assert rendered.scrape_endpoints([SERVICE, kubelet], ["fdc-fastdining-api"]) == []
    with pytest.raises(ValueError, match="selects 0 Services"):
        rendered.scrape_endpoints([SERVICE, kubelet])
