"""What the rendered umbrella (`helm template` of charts/fdc-stack) says about wiring, read, not
repeated: how Prometheus labels each workload it scrapes (its ServiceMonitor), and the
Alertmanager configuration (the Secret kube-prometheus-stack renders from its values).

Pure functions over parsed manifests; `render_umbrella` is the one adapter (helm).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from testkit.chart_stub import real_kps_archive
from testkit.chart_stub import render_umbrella as render

Manifest = dict[str, Any]
Config = dict[str, Any]

# kube-prometheus-stack renders `alertmanager.config` into `alertmanager-<fullname>-alertmanager`
# under this key (its templates/alertmanager/secret.yaml).
ALERTMANAGER_SECRET = re.compile(r"^alertmanager-.+-alertmanager$")
ALERTMANAGER_KEY = "alertmanager.yaml"
# An in-cluster URL's host and port: `http://fdc-discord-relay:8800/...`.
_SERVICE_URL = re.compile(r"(?P<scheme>https?://)(?P<host>[a-z0-9][a-z0-9.-]*):(?P<port>\d+)")


def render_umbrella(*, release: str, namespace: str, values: Sequence[Path] = ()) -> list[Manifest]:
    """`helm template` of the umbrella: with the real kube-prometheus-stack when its archive is
    there (`helm dependency build` could reach the repository), else with testkit's stand-in,
    which renders only kube-prometheus-stack's Alertmanager config Secret."""
    kps = "real" if real_kps_archive() is not None else "stub"
    # The real chart's CRDs hold a bare `=` PyYAML cannot load; none of them is needed here.
    return render(
        kps=kps, release=release, namespace=namespace, values=values, include_crds=False
    ).documents


def of_kind(manifests: Sequence[Manifest], kind: str) -> list[Manifest]:
    return [doc for doc in manifests if doc.get("kind") == kind]


def named(manifests: Sequence[Manifest], kind: str, name: str) -> Manifest:
    for doc in of_kind(manifests, kind):
        if doc["metadata"]["name"] == name:
            return doc
    raise LookupError(f"the rendered umbrella has no {kind} named {name!r}")


@dataclass(frozen=True)
class ScrapeEndpoint:
    """One ServiceMonitor endpoint, resolved to its Service: what Prometheus scrapes, and the
    labels prometheus-operator gives the target (before the scrape adds `instance`)."""

    service: str
    port_name: str  # the Service port's name
    path: str
    labels: dict[str, str]


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (`matchLabels` and `matchExpressions`) against `labels`."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        held = {
            "In": present and labels[key] in (values or []),
            "NotIn": not present or labels[key] not in (values or []),
            "Exists": present,
            "DoesNotExist": not present,
        }
        if operator not in held:
            raise ValueError(f"unknown label selector operator {operator!r} in {dict(selector)}")
        if not held[operator]:
            return False
    return True


def _relabel(labels: dict[str, str], relabelings: Sequence[Mapping[str, Any]], where: str) -> None:
    """Apply the relabelings the charts use (a fixed `replacement` into `targetLabel`); any
    other kind raises naming the ServiceMonitor, rather than being ignored."""
    for rule in relabelings:
        action = rule.get("action", "replace").lower()
        if action != "replace" or rule.get("sourceLabels") or "targetLabel" not in rule:
            raise ValueError(f"{where}: relabeling {dict(rule)} is not a fixed replacement")
        labels[rule["targetLabel"]] = str(rule.get("replacement", "$1"))


def scrape_endpoints(
    manifests: Sequence[Manifest], services: Iterable[str] | None = None
) -> list[ScrapeEndpoint]:
    """Every ServiceMonitor endpoint of the umbrella that selects one of `services` (default:
    any rendered Service), with prometheus-operator's target labels: `job` (the Service's name,
    or its `jobLabel` label's value), `namespace`, `service`, `endpoint` (the port's name), then
    the endpoint's relabelings. A monitor selecting none of them is not scraped here (the real
    kube-prometheus-stack's monitors of the cluster's own parts, say)."""
    wanted = None if services is None else set(services)
    candidates = [
        s
        for s in of_kind(manifests, "Service")
        if wanted is None or s["metadata"]["name"] in wanted
    ]
    endpoints = []
    for monitor in of_kind(manifests, "ServiceMonitor"):
        spec, name = monitor["spec"], monitor["metadata"]["name"]
        chosen = [
            s for s in candidates if _matches(spec["selector"], s["metadata"].get("labels", {}))
        ]
        if not chosen and wanted is not None:
            continue
        if len(chosen) != 1:
            found = [s["metadata"]["name"] for s in chosen]
            raise ValueError(f"ServiceMonitor {name} selects {len(chosen)} Services: {found}")
        [service] = chosen
        service_labels = service["metadata"].get("labels", {})
        job = service_labels.get(spec["jobLabel"], "") if spec.get("jobLabel") else ""
        for endpoint in spec["endpoints"]:
            [port] = [p for p in service["spec"]["ports"] if p.get("name") == endpoint["port"]]
            labels = {
                "job": job or service["metadata"]["name"],
                "namespace": service["metadata"].get("namespace", ""),
                "service": service["metadata"]["name"],
                "endpoint": endpoint["port"],
            }
            _relabel(labels, endpoint.get("relabelings", []), f"ServiceMonitor {name}")
            endpoints.append(
                ScrapeEndpoint(
                    service=service["metadata"]["name"],
                    port_name=str(port["name"]),
                    path=endpoint.get("path", "/metrics"),
                    labels=labels,
                )
            )
    return endpoints


@dataclass(frozen=True)
class ServicePort:
    """One port of a rendered Service, and the Deployment whose pods it reaches."""

    service: str
    port: int
    name: str
    target_port: str | int
    deployment: str | None  # None: it selects none of the rendered Deployments


def service_ports(manifests: Sequence[Manifest]) -> list[ServicePort]:
    deployments = of_kind(manifests, "Deployment")
    ports = []
    for service in of_kind(manifests, "Service"):
        selector = service["spec"].get("selector", {})
        selected = [
            d["metadata"]["name"]
            for d in deployments
            if selector
            and _matches({"matchLabels": selector}, d["spec"]["template"]["metadata"]["labels"])
        ]
        for port in service["spec"].get("ports", []):
            ports.append(
                ServicePort(
                    service=service["metadata"]["name"],
                    port=int(port["port"]),
                    name=str(port.get("name", "")),
                    target_port=port.get("targetPort", port["port"]),
                    deployment=selected[0] if selected else None,
                )
            )
    return ports


def secret_data(secret: Manifest) -> dict[str, str]:
    """A Secret's keys and values, decoded (`data` is base64, `stringData` plain)."""
    data = {
        key: base64.b64decode(value).decode("utf-8")
        for key, value in secret.get("data", {}).items()
    }
    return {**data, **secret.get("stringData", {})}


def alertmanager_config(manifests: Sequence[Manifest]) -> Config:
    """The `alertmanager.yaml` of the config Secret kube-prometheus-stack renders."""
    secrets = [
        doc
        for doc in of_kind(manifests, "Secret")
        if ALERTMANAGER_SECRET.match(doc["metadata"]["name"])
        and ALERTMANAGER_KEY in doc.get("data", {})
    ]
    if len(secrets) != 1:
        names = [doc["metadata"]["name"] for doc in secrets]
        raise LookupError(f"expected one Alertmanager config Secret in the umbrella, got {names}")
    return yaml.safe_load(secret_data(secrets[0])[ALERTMANAGER_KEY])


def map_service_urls(config: Any, addresses: Mapping[str, str]) -> Any:
    """`config` with every in-cluster `http://<service>:<port>` replaced by its local address
    (`addresses["fdc-discord-relay:8800"] = "127.0.0.1:41234"`); nothing else changes. A URL
    naming a Service with no local address raises, so none is missed."""
    if isinstance(config, dict):
        return {key: map_service_urls(value, addresses) for key, value in config.items()}
    if isinstance(config, list):
        return [map_service_urls(value, addresses) for value in config]
    if not isinstance(config, str):
        return config

    def local(match: re.Match[str]) -> str:
        service = f"{match['host']}:{match['port']}"
        if service not in addresses:
            raise ValueError(f"no local address for the Service {service} in {config!r}")
        return f"{match['scheme']}{addresses[service]}"

    return _SERVICE_URL.sub(local, config)
