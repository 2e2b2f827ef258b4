"""Readiness and liveness probes as the kubelet runs them (httpGet, tcpSocket).

`Probe.parse` is pure (the rendered probe, its named ports resolved, Kubernetes' defaults);
`attempt` does one probe against an address and says whether it passed and why not.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fdc_podrunner.render import container_port


@dataclass(frozen=True)
class Probe:
    kind: str  # "http" | "tcp"
    port: int
    path: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    failure_threshold: int = 3

    @classmethod
    def parse(cls, spec: Mapping[str, Any], container: Mapping[str, Any]) -> Probe:
        timing = {
            "initial_delay": float(spec.get("initialDelaySeconds", 0)),
            "period": float(spec.get("periodSeconds", 10)),
            "timeout": float(spec.get("timeoutSeconds", 1)),
            "failure_threshold": int(spec.get("failureThreshold", 3)),
        }
        if "httpGet" in spec:
            get = spec["httpGet"]
            if get.get("scheme", "HTTP") != "HTTP":
                raise ValueError(f"probe scheme {get['scheme']} is not supported")
            headers = {h["name"]: h["value"] for h in get.get("httpHeaders", [])}
            port = container_port([container], get["port"])
            return cls("http", port, get.get("path", "/"), headers, **timing)
        if "tcpSocket" in spec:
            return cls("tcp", container_port([container], spec["tcpSocket"]["port"]), **timing)
        raise ValueError(f"probe {sorted(spec)} is not supported (httpGet, tcpSocket)")


def attempt(probe: Probe, host: str, port: int, pod_ip: str) -> str | None:
    """One probe through host:port (a forward to the pod's port). None: passed; else why not."""
    try:
        if probe.kind == "tcp":
            with socket.create_connection((host, port), timeout=probe.timeout):
                return None
        connection = http.client.HTTPConnection(host, port, timeout=probe.timeout)
        try:
            # The kubelet's Host header is the pod's IP and the probed port.
            headers = {"Host": f"{pod_ip}:{probe.port}", "User-Agent": "kube-probe/1.36"}
            connection.request("GET", probe.path, headers={**headers, **probe.headers})
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as exc:
        return f"GET {probe.path} on port {probe.port}: {exc!r}"
    if 200 <= response.status < 400:
        return None
    return f"GET {probe.path} on port {probe.port}: HTTP {response.status}"
