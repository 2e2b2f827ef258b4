"""`PodRunner`: the rendered Deployments of ours, started as the kubelet and a runtime would.

start(): build (or reuse) each image, give each pod a network namespace, its Services, volumes
and /etc files, run its init containers in order to completion, start its containers, and wait
until every pod passes its readiness probe. A supervisor thread then probes liveness (restarting
a container whose liveness fails) and readiness, and records the first failure: a container that
exits, or one that writes outside a writable mount. stop(): SIGTERM, grace, SIGKILL, per container.
"""

from __future__ import annotations

import secrets as random_tokens
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdc_make.kind import IMAGE_DOCKERFILES

from fdc_podrunner import network, pod, probes, render, resolve
from fdc_podrunner.health import Health
from fdc_podrunner.image import Image, Toolchain, build_image, find_tool
from fdc_podrunner.process import ContainerProcess, PodFailed, tail
from fdc_podrunner.services import HostAddress, ServiceNetwork
from fdc_podrunner.watchdog import Watchdog

REPO = Path(__file__).resolve().parents[3]
_TICK = 0.2
_EROFS = "Read-only file system"


@dataclass
class _Container:
    spec: dict[str, Any]
    process: ContainerProcess
    health: Health
    log_seen: int = 0

    @property
    def ready(self) -> bool:
        return self.health.ready


@dataclass
class _Pod:
    context: pod.PodContext
    sandbox: network.Sandbox
    volumes: dict[str, resolve.Volume]
    grace: float
    containers: dict[str, _Container] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return bool(self.containers) and all(c.ready for c in self.containers.values())

    @property
    def workload(self) -> render.Workload:
        return self.context.workload

    @property
    def netns(self) -> str:
        return self.sandbox.path

    @property
    def hosts_path(self) -> Path:
        return self.context.directory / "etc" / "hosts"

    @property
    def pod_name(self) -> str:
        return self.context.meta.name


class PodRunner:
    def __init__(
        self,
        documents: Sequence[dict[str, Any]],
        *,
        workdir: Path,
        pods: Iterable[str] | None = None,
        host_services: Mapping[str, Mapping[int, HostAddress | None]] | None = None,
        kubeconfig: Path | None = None,
        host_ports: Mapping[tuple[str, int | str], int] | None = None,
        namespace: str = "monitoring",
        repo: Path = REPO,
        cache: Path | None = None,
        ready_timeout: float = 180.0,
        dockerfiles: Mapping[str, str] | None = None,
    ) -> None:
        self.documents = list(documents)
        self.workdir = Path(workdir)
        self.namespace = namespace
        self.repo = repo
        self.cache = cache or repo / ".podrunner-cache"
        self.ready_timeout = ready_timeout
        self.kubeconfig = kubeconfig
        # (Deployment, container port number or name) -> the fixed 127.0.0.1 port `address()`
        # forwards from (`make local`'s seed ports); any other forward takes a free port.
        self.host_ports = dict(host_ports or {})
        self.dockerfiles = dict(dockerfiles if dockerfiles is not None else IMAGE_DOCKERFILES)
        found = render.workloads(self.documents, self.dockerfiles, namespace)
        wanted = set(pods) if pods is not None else {w.name for w in found}
        missing = wanted - {w.name for w in found}
        if missing:
            names = sorted(w.name for w in found)
            raise ValueError(f"no rendered Deployment of ours named {sorted(missing)}: {names}")
        self.workloads = [w for w in found if w.name in wanted]
        self._pods: dict[str, _Pod] = {}
        self.services = ServiceNetwork(
            render.service_ports(self.documents),
            self.workloads,
            host_services or {},
            lambda: list(self._pods.values()),
        )
        self._failure: PodFailed | None = None
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="podrunner-spawn")
        self._watchdog: Watchdog | None = None
        self._supervisor: threading.Thread | None = None
        self._tools = (find_tool("bwrap"), find_tool("nsenter"))

    # ---- public API ------------------------------------------------------------------------

    def __enter__(self) -> PodRunner:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def address(self, deployment: str, port: int | str) -> HostAddress:
        """A 127.0.0.1 port on this machine forwarded to the pod's `port` (number or name)."""
        state = self._pod(deployment)
        containers = state.context.workload.spec["containers"]
        number = render.container_port(containers, port)
        fixed = next(
            (
                host_port
                for (name, wanted), host_port in self.host_ports.items()
                if name == deployment and render.container_port(containers, wanted) == number
            ),
            0,
        )
        return self.services.forward(state, number, fixed)

    def map_service(self, name: str, port: int, address: HostAddress | None) -> None:
        """Point Service `name`:`port` (not one of ours) at a host address, now or later."""
        self.services.map(name, port, address)

    def logs(self, deployment: str, container: str) -> str:
        return self.log_path(deployment, container).read_text(encoding="utf-8", errors="replace")

    def log_path(self, deployment: str, container: str) -> Path:
        return self.workdir / deployment / "logs" / f"{container}.log"

    def pod_name(self, deployment: str) -> str:
        return self._pod(deployment).context.meta.name

    def ready(self, deployment: str) -> bool:
        """Whether every container of the Deployment's pod passes its readiness probe now."""
        return self._pod(deployment).ready

    def restarts(self, deployment: str, container: str) -> int:
        return self._pod(deployment).containers[container].process.restarts

    def killed(self) -> list[str]:
        """After stop(): "deployment/container" of each one SIGTERM did not end in its grace."""
        return [
            f"{deployment}/{name}"
            for deployment, state in self._pods.items()
            for name, container in state.containers.items()
            if container.process.killed
        ]

    def check(self) -> None:
        """Raise the first failure seen (a container exited, went unready for good, ...)."""
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        """Every container: SIGTERM, SIGKILL after the pod's grace period; then the namespaces."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=30)
        pods = list(self._pods.values())
        stoppers = [
            threading.Thread(target=self._stop_pod, args=(state,), name="podrunner-stop")
            for state in pods
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        self.services.close()
        if self._watchdog is not None:
            self._watchdog.close()
            self._watchdog = None
        self._spawner.shutdown(wait=True)

    # ---- start -----------------------------------------------------------------------------

    def _start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        images = self._images()
        secrets = render.objects_data(self.documents, "Secret")
        config_maps = render.objects_data(self.documents, "ConfigMap")
        self.services.start()
        self._watchdog = Watchdog(self._spawn)
        for workload in self.workloads:
            self._create_pod(workload, images[workload.component], secrets, config_maps)
        for state in self._pods.values():
            self._run_init_containers(state)
            for spec in state.context.workload.spec["containers"]:
                self._start_container(state, spec)
        self._supervisor = threading.Thread(
            target=self._supervise, name="podrunner-supervisor", daemon=True
        )
        self._supervisor.start()
        self._wait_ready()

    def _images(self) -> dict[str, Image]:
        toolchain = Toolchain.of_this_machine()
        return {
            component: build_image(
                component, self.repo / self.dockerfiles[component], self.repo, self.cache, toolchain
            )
            for component in sorted({w.component for w in self.workloads})
        }

    def _kubeconfig_text(self) -> str | None:
        if self.kubeconfig is None:
            return None
        return Path(self.kubeconfig).read_text(encoding="utf-8")

    def _create_pod(
        self,
        workload: render.Workload,
        image: Image,
        secrets: resolve.ObjectData,
        config_maps: resolve.ObjectData,
    ) -> None:
        sandbox = network.Sandbox.create(self._tools[0], self._spawn)
        name = workload.pod_name(random_tokens.token_hex(3)[:5])
        metadata = workload.template.get("metadata", {})
        meta = resolve.PodMeta(
            name=name,
            namespace=workload.namespace,
            labels=metadata.get("labels", {}),
            annotations=metadata.get("annotations", {}),
            pod_ip="127.0.0.1",
            service_account=workload.spec.get("serviceAccountName", "default"),
        )
        directory = self.workdir / workload.name
        shutil.rmtree(directory / "volumes", ignore_errors=True)
        context = pod.PodContext(
            workload=workload,
            meta=meta,
            image=image,
            directory=directory,
            pvc_root=self.workdir / "persistent-volumes",
            secrets=secrets,
            config_maps=config_maps,
            services=self.services.seen_by(workload),
            netns=sandbox.path,
            kubeconfig=self._kubeconfig_text(),
        )
        grace = float(workload.spec.get("terminationGracePeriodSeconds", 30))
        state = _Pod(context, sandbox, pod.prepare(context), grace)
        with self._lock:
            self._pods[workload.name] = state
        self.services.attach(state)
        if context.kubeconfig is not None and (directory / "serviceaccount").is_dir():
            self.services.attach_api_server(state, context.kubeconfig)

    def _spawn(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        # Every process starts from this one long-lived thread: bwrap --die-with-parent ties a
        # sandbox to the thread that started it; a session of its own keeps Ctrl-C away from it.
        def start() -> subprocess.Popen[bytes]:
            kwargs.setdefault("stdin", subprocess.DEVNULL)
            return subprocess.Popen(argv, start_new_session=True, **kwargs)

        return self._spawner.submit(start).result()

    def _new_process(self, state: _Pod, spec: dict[str, Any]) -> ContainerProcess:
        workload = state.context.workload.name
        return ContainerProcess(
            state.context.meta.name,
            spec["name"],
            self.log_path(workload, spec["name"]),
            self._tools,
        )

    def _launch(self, state: _Pod, spec: dict[str, Any], process: ContainerProcess) -> None:
        process.start(
            lambda info_fd: pod.sandbox(state.context, spec, state.volumes, info_fd), self._spawn
        )
        assert process.pid is not None and self._watchdog is not None
        self._watchdog.watch(process.pid)

    def _ended(self, process: ContainerProcess) -> None:
        """The process is gone: the watchdog must not kill its PID, which may be reused."""
        if process.pid is not None and self._watchdog is not None:
            self._watchdog.forget(process.pid)

    def _run_init_containers(self, state: _Pod) -> None:
        for spec in state.context.workload.spec.get("initContainers", []):
            process = self._new_process(state, spec)
            self._launch(state, spec, process)
            assert process.process is not None
            code = process.process.wait(timeout=self.ready_timeout)
            self._ended(process)
            if code != 0:
                raise process.failure(f"init container exited with code {code}")

    def _start_container(self, state: _Pod, spec: dict[str, Any]) -> None:
        def parse(kind: str) -> probes.Probe | None:
            return probes.Probe.parse(spec[kind], spec) if kind in spec else None

        health = Health(parse("readinessProbe"), parse("livenessProbe"), fast=_TICK)
        container = _Container(spec, self._new_process(state, spec), health)
        log = container.process.log_path
        container.log_seen = log.stat().st_size if log.is_file() else 0
        self._launch(state, spec, container.process)
        health.started(time.monotonic())
        state.containers[spec["name"]] = container

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            self.check()
            if all(state.ready for state in self._pods.values()):
                return
            time.sleep(_TICK)
        self.check()
        for state in self._pods.values():
            for container in state.containers.values():
                if not container.ready:
                    raise container.process.failure(
                        f"readiness probe never passed within {self.ready_timeout:.0f} s"
                        f" (last: {container.health.last_readiness})"
                    )

    # ---- supervise -------------------------------------------------------------------------

    def _pod(self, deployment: str) -> _Pod:
        if deployment not in self._pods:
            raise KeyError(f"no pod of Deployment {deployment!r}: {sorted(self._pods)}")
        return self._pods[deployment]

    def _fail(self, failure: PodFailed) -> None:
        if self._failure is None:
            self._failure = failure

    def _supervise(self) -> None:
        while not self._stopping.wait(_TICK):
            for deployment, state in list(self._pods.items()):
                for container in list(state.containers.values()):
                    self._supervise_container(deployment, state, container)

    def _supervise_container(self, deployment: str, state: _Pod, container: _Container) -> None:
        process = container.process
        code = process.exit_code()
        if code is not None:
            if not self._stopping.is_set():
                self._fail(process.failure(f"exited with code {code}"))
            return
        self._scan_log(container)
        health = container.health
        if health.readiness_due(time.monotonic()):
            assert health.readiness is not None
            why = self._attempt(deployment, health.readiness, state)
            health.readiness_result(why, time.monotonic())
        if health.liveness_due(time.monotonic()):
            assert health.liveness is not None
            why = self._attempt(deployment, health.liveness, state)
            if health.liveness_result(why, time.monotonic()):
                self._restart(state, container, why or "")

    def _attempt(self, deployment: str, probe: probes.Probe, state: _Pod) -> str | None:
        host, port = self.address(deployment, probe.port)
        return probes.attempt(probe, host, port, state.context.meta.pod_ip)

    def _scan_log(self, container: _Container) -> None:
        log = container.process.log_path
        size = log.stat().st_size if log.is_file() else 0
        if size <= container.log_seen:
            return
        with log.open("rb") as handle:
            handle.seek(container.log_seen)
            new = handle.read().decode("utf-8", errors="replace")
        container.log_seen = size
        if _EROFS in new:
            self._fail(container.process.failure("wrote outside a writable mount (" + _EROFS + ")"))

    def _restart(self, state: _Pod, container: _Container, why: str) -> None:
        """A failing liveness probe: the kubelet kills the container and starts it again."""
        restarts = container.process.restarts + 1
        container.process.stop(state.grace)
        self._ended(container.process)
        with container.process.log_path.open("a", encoding="utf-8") as log:
            log.write(f"[podrunner] liveness probe failed ({why}): restart {restarts}\n")
        container.process = self._new_process(state, container.spec)
        container.process.restarts = restarts
        self._launch(state, container.spec, container.process)
        container.health.started(time.monotonic())

    # ---- stop ------------------------------------------------------------------------------

    def _stop_pod(self, state: _Pod) -> None:
        for container in state.containers.values():
            container.process.stop(state.grace)
            self._ended(container.process)
        state.sandbox.close()


__all__ = ["PodFailed", "PodRunner", "tail"]
