"""Service names inside the pods, and port-forwards into them from the host.

Every pod's /etc/hosts gives each Service name a 127.0.1.x address (its own Services: 127.0.0.1,
the pod reaching itself); in the pod's network namespace a listener there forwards each
connection to a Ready pod the Service selects, or to the host address a Service that is not ours
(Prometheus, Alertmanager) is mapped to. `forward()` is kubectl port-forward: a 127.0.0.1 port on
the host into a pod's port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import yaml

from fdc_podrunner import network, render

HostAddress = tuple[str, int]


class PodView(Protocol):
    """What the Service map needs of a running pod."""

    @property
    def workload(self) -> render.Workload: ...
    @property
    def netns(self) -> str: ...
    @property
    def ready(self) -> bool: ...
    @property
    def hosts_path(self) -> Path: ...
    @property
    def pod_name(self) -> str: ...


def container_ports(workload: render.Workload) -> set[int]:
    containers = workload.spec["containers"]
    return {int(p["containerPort"]) for c in containers for p in c.get("ports", [])}


class ServiceNetwork:
    def __init__(
        self,
        service_ports: Sequence[render.ServicePort],
        workloads: Sequence[render.Workload],
        host_services: Mapping[str, Mapping[int, HostAddress | None]],
        pods: Callable[[], Iterable[PodView]],
    ) -> None:
        self.service_ports = list(service_ports)
        self.workloads = list(workloads)
        self._pods = pods
        self._host: dict[tuple[str, int], HostAddress | None] = {
            (name, int(port)): address
            for name, ports in host_services.items()
            for port, address in ports.items()
        }
        names = [p.service for p in self.service_ports] + [name for name, _ in self._host]
        self._addresses = network.service_addresses(names)
        self._listening: set[tuple[str, str, int]] = set()
        self._forwards: dict[tuple[str, int], int] = {}
        self._lock = threading.RLock()
        self.forwarder: network.Forwarder | None = None

    def start(self) -> None:
        self.forwarder = network.Forwarder()

    def close(self) -> None:
        if self.forwarder is not None:
            self.forwarder.close()
            self.forwarder = None

    # ---- inside the pods -------------------------------------------------------------------

    def seen_by(self, workload: render.Workload) -> dict[str, str]:
        """Service name -> its address inside this Deployment's pod."""
        own = self._own(workload)
        return {n: "127.0.0.1" if n in own else a for n, a in self._addresses.items()}

    def attach(self, pod: PodView) -> None:
        """Listen in the pod's namespace for every Service it may use."""
        for service_port in self.service_ports:
            self._listen(pod, service_port.service, service_port.port)
        for service, port in list(self._host):
            self._listen(pod, service, port)

    def attach_api_server(self, pod: PodView, kubeconfig_text: str) -> None:
        # The kubeconfig names the test API server at 127.0.0.1:PORT on the host (its
        # certificate is for that address): the same address inside the pod forwards there.
        config = yaml.safe_load(kubeconfig_text)
        server = urlsplit(config["clusters"][0]["cluster"]["server"])
        host, port = server.hostname or "127.0.0.1", server.port or 443
        assert self.forwarder is not None
        self.forwarder.listen(pod.netns, host, port, lambda: (None, host, port))

    def map(self, name: str, port: int, address: HostAddress | None) -> None:
        """Point Service `name`:`port` at a host address (None: nothing serves it now)."""
        with self._lock:
            self._host[(name, int(port))] = address
            if name not in self._addresses:
                used = set(self._addresses.values())
                free = next(f"127.0.1.{i}" for i in range(1, 255) if f"127.0.1.{i}" not in used)
                self._addresses[name] = free
            for pod in self._pods():
                self.write_hosts(pod)
                self._listen(pod, name, int(port))

    def write_hosts(self, pod: PodView) -> None:
        namespace = pod.workload.namespace
        text = network.hosts_file(pod.pod_name, "127.0.0.1", self.seen_by(pod.workload), namespace)
        # In place: the pod sees this very file through its bind mount.
        with pod.hosts_path.open("r+", encoding="utf-8") as hosts:
            hosts.write(text)
            hosts.truncate()

    # ---- from the host ---------------------------------------------------------------------

    def forward(self, pod: PodView, number: int, host_port: int = 0) -> HostAddress:
        """A 127.0.0.1 port on the host forwarded to the pod's port `number` (one per port)."""
        key = (pod.workload.name, number)
        with self._lock:
            if key not in self._forwards:
                assert self.forwarder is not None, "start() first"
                netns = pod.netns
                self._forwards[key] = self.forwarder.listen(
                    None, network.LOOPBACK, host_port, lambda: (netns, "127.0.0.1", number)
                )
            return network.LOOPBACK, self._forwards[key]

    # ---- where a connection goes -----------------------------------------------------------

    def _own(self, workload: render.Workload) -> set[str]:
        return {
            p.service for p in self.service_ports if render.selects(p.selector, workload.labels)
        }

    def _listen(self, pod: PodView, service: str, port: int) -> None:
        key = (pod.workload.name, service, port)
        if key in self._listening or service in self._own(pod.workload):
            return
        if port in container_ports(pod.workload):
            # A listener of ours on a local address would take the port from the pod's own
            # 0.0.0.0 bind (one namespace); a ClusterIP is not a local address in a cluster.
            # A Service nothing here serves (kube-prometheus-stack's, unmapped) is left out.
            if not self._servable(service, port):
                return
            raise ValueError(
                f"pod {pod.workload.name} listens on port {port}, which Service "
                f"{service} also uses: the runner cannot serve both in the pod's namespace"
            )
        self._listening.add(key)
        assert self.forwarder is not None
        self.forwarder.listen(
            pod.netns, self._addresses[service], port, lambda: self.endpoint(service, port)
        )

    def _servable(self, service: str, port: int) -> bool:
        """Whether a host address or one of our pods can ever be behind `service`:`port`."""
        if (service, port) in self._host:
            return True
        return any(
            (p.service, p.port) == (service, port)
            and any(render.selects(p.selector, w.labels) for w in self.workloads)
            for p in self.service_ports
        )

    def endpoint(self, service: str, port: int) -> network.Target:
        """Where Service `service`:`port` leads now: a Ready pod it selects, or a host address."""
        if (service, port) in self._host:
            address = self._host[(service, port)]
            return None if address is None else (None, address[0], address[1])
        for service_port in self.service_ports:
            if (service_port.service, service_port.port) != (service, port):
                continue
            for pod in self._pods():
                if pod.ready and render.selects(service_port.selector, pod.workload.labels):
                    containers = pod.workload.spec["containers"]
                    return (
                        pod.netns,
                        "127.0.0.1",
                        render.container_port(containers, service_port.target),
                    )
        return None
