"""The kubelet's probes as the charts render them, and requests sent the way the kubelet sends
them, so the apps can be shown to leave probes (and scrapes) out of their request metrics.

`chart_probe_paths` reads the HTTP paths of every liveness, readiness and startup probe of a
chart's rendered workloads (`helm template`, through `testkit.helm`): what the charts render is
the truth the apps' default excluded paths are held to. `kubelet_get` sends what the kubelet's
HTTP prober sends (Kubernetes' pkg/probe/http): a GET with `User-Agent: kube-probe/<version>`,
`Accept: */*`, `Connection: close`, to the pod's address, no redirects followed.
"""

from __future__ import annotations

from typing import Any

import httpx

from testkit import helm

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
KUBELET_HEADERS = {"User-Agent": "kube-probe/1.36", "Accept": "*/*", "Connection": "close"}


def chart_probe_paths(chart: str) -> set[str]:
    """Every HTTP probe path of the chart's workloads, rendered with its default values."""
    rendered = helm.render(chart)
    paths = set()
    for kind in WORKLOADS:
        for workload in rendered.of_kind(kind):
            for container in _containers(workload):
                for probe in PROBES:
                    path = (container.get(probe) or {}).get("httpGet", {}).get("path")
                    if path:
                        paths.add(path)
    return paths


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def kubelet_get(base_url: str, path: str) -> int:
    """One probe as the kubelet sends it; its status code."""
    response = httpx.get(
        f"{base_url}{path}", headers=KUBELET_HEADERS, timeout=3, follow_redirects=False
    )
    return response.status_code
