"""The whole alert path on one machine, started from the rendered umbrella:

    fdc-stack's four workloads (FastAPI, Django, the relay, the SLOAlert operator), each from its
    rendered pod through the pod runner (fdc_podrunner), under the pod's own conditions
      -> Prometheus (rules: `sloalert render --format rules` of the SLOAlerts the umbrella ships;
         each workload scraped with the labels its rendered ServiceMonitor gives it)
      -> Alertmanager (the `alertmanager.yaml` of the config Secret kube-prometheus-stack renders,
         only Service names mapped to addresses; the relay's Secret at the path kps mounts it)
      -> the relay -> Discord, its stand-in, or the relay's log

Also running: node_exporter (kube-prometheus-stack's, which the stub chart does not render: its
job is NODE_EXPORTER_JOB) and the CRD API server the operator reconciles the same shipped
SLOAlerts on. (The operator's PrometheusRules are not what Prometheus loads here: no
prometheus-operator runs; the CLI renders the same rules from the same files.)

One implementation for `make local`, the pipeline test, the dead-query check and the whole-path
benchmark. What differs from a cluster, on purpose and only here: Prometheus' scrape and
evaluation intervals (the caller's: 1 s in the tests, 5 s for `make local`, instead of the
ServiceMonitors' 15-30 s and kube-prometheus-stack's 30 s), and every rule group that sets its
own interval (each SLO's error-budget group, 2m30s) gets the same one, or its first evaluation
could come after a test is over. Alertmanager's timers stay as shipped.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from fdc_podrunner import PodRunner
from testkit import stack_config
from testkit.alertmanager import RunningAlertmanager, run_alertmanager
from testkit.apiserver import Cluster, run_apiserver
from testkit.apps import run_node_exporter
from testkit.discord import Standin, run_discord_standin
from testkit.kube import kubectl
from testkit.processes import LOOPBACK, RunningServer, free_port
from testkit.prometheus import (
    SHORT_INTERVAL,
    RunningPrometheus,
    ScrapeJob,
    run_prometheus,
    target_of,
)
from testkit.sloalert_cluster import MONITORING_STAND_INS, OPERATOR_CRDS
from testkit.tools import REPO_ROOT

from fdc_local import rendered

CHARTS_DIR = REPO_ROOT / "charts"
# kube-prometheus-stack's node exporter (the prometheus-node-exporter chart) labels its Service
# `jobLabel: node-exporter` and its ServiceMonitor takes the job from that label.
NODE_EXPORTER_JOB = "node-exporter"
# The umbrella's release and namespace, as `make up` installs it.
RELEASE = "fdc"
NAMESPACE = "monitoring"
# Each part of ours: the chart it comes from (its pods' `app.kubernetes.io/name`).
CHARTS = {
    "fastapi": "fastdining-api",
    "django": "airestaurant",
    "relay": "discord-relay",
    "operator": "sloalert-operator",
}
# The name the relay reaches the Discord stand-in by (a Service that is not ours).
STANDIN_SERVICE = "discord-standin"


def chart_job(chart: str) -> str:
    """The `job` label an app chart gives its scraped series by default (`serviceMonitor.job`):
    what an SLOAlert preset reads when no job is given."""
    values = yaml.safe_load((CHARTS_DIR / chart / "values.yaml").read_text(encoding="utf-8"))
    return str(values["serviceMonitor"]["job"])


@dataclass(frozen=True)
class Ports:
    """Where each part listens on 127.0.0.1; 0 takes a free port (tests), `LOCAL_PORTS` the
    seed's. The four workloads' ports are forwards into their pods."""

    fastapi: int = 0
    django: int = 0
    relay: int = 0
    prometheus: int = 0
    alertmanager: int = 0
    node_exporter: int = 0
    operator: int = 0  # its metrics
    operator_health: int = 0  # its liveness and readiness probes


LOCAL_PORTS = Ports(
    fastapi=8000,
    django=8900,
    relay=8800,
    prometheus=9090,
    alertmanager=9093,
    node_exporter=9100,
    operator=8080,
    operator_health=8081,
)
# Which container port of which part each forwarded port reaches (the rendered ports' names).
FORWARDS = {
    "fastapi": ("fastapi", "http"),
    "django": ("django", "http"),
    "relay": ("relay", "http"),
    "operator": ("operator", "metrics"),
    "operator_health": ("operator", "health"),
}


@dataclass(frozen=True)
class Address:
    """Where a part answers on this machine."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class Stack:
    workdir: Path
    fastapi: Address
    django: Address
    relay: Address
    operator: Address
    operator_health: Address
    node_exporter: RunningServer
    pods: PodRunner
    cluster: Cluster
    alertmanager: RunningAlertmanager
    prometheus: RunningPrometheus
    rule_file: Path
    sloalert_files: list[Path]
    jobs: dict[str, str]  # the `job` label of each scraped part
    manifests: list[rendered.Manifest]  # the rendered umbrella every part was started from
    evaluation_interval: str  # Prometheus' and every rule group's
    relay_token_file: Path  # the relay's bearer token, as Alertmanager reads it
    standin: Standin | None = None
    # The Discord webhook the relay posts to (None: the relay's log sink).
    webhook_url: str | None = None
    logs: dict[str, Path] = field(default_factory=dict)

    def urls(self) -> dict[str, str]:
        """Every URL a person (or a test) looks at, by name."""
        prometheus = self.prometheus.base_url
        urls = {
            "FastAPI": f"{self.fastapi.base_url}/docs",
            "FastAPI metrics": f"{self.fastapi.base_url}/metrics",
            "Django": f"{self.django.base_url}/restaurants/",
            "Django metrics": f"{self.django.base_url}/metrics",
            "node-exporter metrics": f"{self.node_exporter.base_url}/metrics",
            "Prometheus targets": f"{prometheus}/targets",
            "Prometheus rules": f"{prometheus}/rules",
            "Prometheus alerts": f"{prometheus}/alerts",
            "Alertmanager": f"{self.alertmanager.base_url}/#/alerts",
            "relay readiness": f"{self.relay.base_url}/readyz",
            "relay metrics": f"{self.relay.base_url}/metrics",
            "operator metrics": f"{self.operator.base_url}/metrics",
            "operator health": f"{self.operator_health.base_url}/healthz",
        }
        if self.standin is not None:
            urls["Discord stand-in"] = f"{self.standin.base_url}/_control/accepted"
        return urls

    def ports(self) -> list[int]:
        """Every port the stack listens on, for the check that all are free after a stop."""
        parts = [self.fastapi, self.django, self.relay, self.operator, self.operator_health]
        servers = [self.node_exporter, self.alertmanager.server, self.prometheus.server]
        return [a.port for a in parts] + [_port(s.base_url) for s in servers]


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def render_rules(
    sloalert_files: Sequence[Path], out: Path, *, group_interval: str | None = None
) -> Path:
    """`sloalert render --format rules` of the files, written to `out` (the real CLI).

    `group_interval` replaces the interval of every group that sets one (and only that).
    """
    result = subprocess.run(
        [sys.executable, "-m", "sloalert", "render", "--format", "rules", *sloalert_files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sloalert render failed ({result.returncode}):\n{result.stderr}")
    text = result.stdout
    if group_interval is not None:
        rules = yaml.safe_load(text)
        for group in rules["groups"]:
            if "interval" in group:
                group["interval"] = group_interval
        text = yaml.safe_dump(rules, sort_keys=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def _private_file(path: Path, text: str) -> Path:
    """A file only this user can read, like a mounted Secret key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")
    return path


def deployments(manifests: Sequence[rendered.Manifest]) -> dict[str, str]:
    """The Deployment of each part of ours, by part (found by its chart's name label)."""
    by_chart = {
        doc["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name"): name
        for doc in rendered.of_kind(manifests, "Deployment")
        if (name := doc["metadata"]["name"])
    }
    missing = [chart for chart in CHARTS.values() if chart not in by_chart]
    if missing:
        raise LookupError(f"the rendered umbrella has no Deployment of {missing}")
    return {part: by_chart[chart] for part, chart in CHARTS.items()}


def alertmanager_etc(manifests: Sequence[rendered.Manifest], tree: Path) -> Path:
    """What kube-prometheus-stack's Alertmanager pod sees under /etc/alertmanager: each Secret
    of `alertmanagerSpec.secrets` under secrets/<name>/ (its rendered keys as files), and the
    config folder its notification templates are read from. Returns the tree to lay over /etc."""
    for name in stack_config.alertmanager_secrets():
        secret = rendered.named(manifests, "Secret", name)
        for key, value in rendered.secret_data(secret).items():
            _private_file(tree / "alertmanager" / "secrets" / name / key, value)
    (tree / "alertmanager" / "config").mkdir(parents=True, exist_ok=True)
    return tree


def _egress(url: str) -> dict[str, dict[int, tuple[str, int]]]:
    """The one way out of the relay's pod: a pod's network namespace reaches only Service
    names, so the webhook's host (discord.com) becomes one, forwarded to the address it
    resolves to here (TCP through: TLS still ends at Discord)."""
    # The URL holds the webhook's token: no message below repeats it.
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(
            "DISCORD_WEBHOOK_URL has no host: expected https://discord.com/api/webhooks/<id>/<token>"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = socket.getaddrinfo(parts.hostname, port, socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        raise RuntimeError(
            f"cannot resolve {parts.hostname} (DISCORD_WEBHOOK_URL): {exc}"
        ) from None
    return {parts.hostname: {port: (str(address[0][4][0]), port)}}


def _values_file(workdir: Path, webhook_url: str | None) -> list[Path]:
    """The one value the stack sets on the umbrella: the relay's Discord webhook, in a file
    only this user reads (`--set` would show it in the process list)."""
    if webhook_url is None:
        return []
    values = {"discord-relay": {"discord": {"webhookUrl": webhook_url}}}
    return [_private_file(workdir / "secrets" / "values.yaml", yaml.safe_dump(values))]


def _scrape_jobs(
    manifests: Sequence[rendered.Manifest], targets: Mapping[str, str]
) -> list[ScrapeJob]:
    """One job per ServiceMonitor endpoint, labelled as prometheus-operator labels its targets.
    `targets`: the local `host:port` of each `<service>:<port name>`."""
    jobs = []
    ours = {target.split(":", 1)[0] for target in targets}
    for endpoint in rendered.scrape_endpoints(manifests, ours):
        labels = dict(endpoint.labels)
        job = labels.pop("job")
        target = targets[f"{endpoint.service}:{endpoint.port_name}"]
        jobs.append(ScrapeJob(job, [target], metrics_path=endpoint.path, labels=labels))
    return jobs


def _service_addresses(
    manifests: Sequence[rendered.Manifest], forwarded: Mapping[tuple[str, str], Address]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each Service port of ours -> the forward into the pod it reaches, as `host:port`, keyed
    by `<service>:<port>` (how Alertmanager's config names it) and by `<service>:<port name>`
    (how a ServiceMonitor names it)."""
    by_number: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for service_port in rendered.service_ports(manifests):
        found = forwarded.get((service_port.deployment or "", str(service_port.target_port)))
        if found is not None:
            by_number[f"{service_port.service}:{service_port.port}"] = f"{found.host}:{found.port}"
            by_name[f"{service_port.service}:{service_port.name}"] = f"{found.host}:{found.port}"
    return by_number, by_name


def _jobs_by_part(
    manifests: Sequence[rendered.Manifest],
    parts: Mapping[str, str],
    scrape_jobs: Sequence[ScrapeJob],
) -> dict[str, str]:
    """The `job` label of each scraped part, by part ("fastapi", ..., "node_exporter")."""
    part_of = {deployment: part for part, deployment in parts.items()}
    service_part = {
        sp.service: part_of[sp.deployment]
        for sp in rendered.service_ports(manifests)
        if sp.deployment in part_of
    }
    return {
        service_part.get(job.labels.get("service", ""), "node_exporter"): job.job
        for job in scrape_jobs
    }


@contextmanager
def run_stack(
    workdir: Path,
    *,
    ports: Ports = Ports(),
    discord: str = "standin",
    scrape_interval: str = SHORT_INTERVAL,
    evaluation_interval: str = SHORT_INTERVAL,
) -> Iterator[Stack]:
    """Start every part, in dependency order, and stop all of them when the block ends (also
    when starting one of them fails), each SIGTERM first and SIGKILL after its grace period.

    `discord`: "standin" (the Discord stand-in, for tests), "log" (the relay's log sink) or a
    Discord webhook URL (handed to the chart, which keeps it in the relay's Secret).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    sloalert_files = stack_config.shipped_sloalert_files()
    rule_file = workdir / "rules" / "sloalert-rules.yaml"
    render_rules(sloalert_files, rule_file, group_interval=evaluation_interval)
    prometheus_port = ports.prometheus or free_port()
    alertmanager_port = ports.alertmanager or free_port()

    with ExitStack() as stack:
        standin = None
        webhook_url: str | None = None
        host_services: dict[str, dict[int, tuple[str, int]]] = {
            "prometheus-operated": {9090: (LOOPBACK, prometheus_port)},
            "alertmanager-operated": {9093: (LOOPBACK, alertmanager_port)},
        }
        if discord == "standin":
            standin = stack.enter_context(run_discord_standin(workdir))
            webhook_url = standin.webhook_url().replace(
                standin.base_url, f"http://{STANDIN_SERVICE}"
            )
            host_services[STANDIN_SERVICE] = {80: (LOOPBACK, standin.port)}
        elif discord != "log":
            webhook_url = discord
            host_services.update(_egress(discord))
        manifests = rendered.render_umbrella(
            release=RELEASE, namespace=NAMESPACE, values=_values_file(workdir, webhook_url)
        )
        parts = deployments(manifests)

        cluster = stack.enter_context(
            run_apiserver(workdir / "apiserver", [*OPERATOR_CRDS, *MONITORING_STAND_INS])
        )
        # The local server needs no Namespace object: custom resources live in any namespace.
        kubectl(
            cluster.kubeconfig,
            "apply",
            f"--namespace={NAMESPACE}",
            *(f"--filename={path}" for path in sloalert_files),
        )
        host_ports = {
            (parts[part], port_name): port
            for name, (part, port_name) in FORWARDS.items()
            if (port := getattr(ports, name))
        }
        pods = stack.enter_context(
            PodRunner(
                manifests,
                workdir=workdir / "pods",
                pods=list(parts.values()),
                host_services=host_services,
                host_ports=host_ports,
                kubeconfig=cluster.kubeconfig,
            )
        )
        address = {
            name: Address(*pods.address(parts[part], port_name))
            for name, (part, port_name) in FORWARDS.items()
        }
        forwarded = {
            (parts[part], port_name): address[name] for name, (part, port_name) in FORWARDS.items()
        }
        by_service, targets = _service_addresses(manifests, forwarded)

        config = rendered.map_service_urls(rendered.alertmanager_config(manifests), by_service)
        etc = alertmanager_etc(manifests, workdir / "alertmanager-etc")
        alertmanager = stack.enter_context(
            run_alertmanager(workdir, config, port=alertmanager_port, overlays={"/etc": etc})
        )
        node_exporter = stack.enter_context(
            run_node_exporter(workdir, port=ports.node_exporter or None)
        )
        scrape_jobs = [
            *_scrape_jobs(manifests, targets),
            ScrapeJob(NODE_EXPORTER_JOB, [target_of(node_exporter)]),
        ]
        prometheus = stack.enter_context(
            run_prometheus(
                workdir / "prometheus",
                scrape_jobs,
                rule_files=[rule_file],
                alertmanagers=[alertmanager.base_url],
                scrape_interval=scrape_interval,
                evaluation_interval=evaluation_interval,
                port=prometheus_port,
            )
        )
        jobs = _jobs_by_part(manifests, parts, scrape_jobs)
        yield Stack(
            workdir=workdir,
            fastapi=address["fastapi"],
            django=address["django"],
            relay=address["relay"],
            operator=address["operator"],
            operator_health=address["operator_health"],
            node_exporter=node_exporter,
            pods=pods,
            cluster=cluster,
            alertmanager=alertmanager,
            prometheus=prometheus,
            rule_file=rule_file,
            sloalert_files=sloalert_files,
            jobs=jobs,
            manifests=manifests,
            evaluation_interval=evaluation_interval,
            relay_token_file=etc / Path(stack_config.relay_token_file()).relative_to("/etc"),
            standin=standin,
            webhook_url=webhook_url,
            logs={
                **{
                    part: pods.log_path(parts[part], _container(manifests, parts[part]))
                    for part in CHARTS
                },
                "node-exporter": node_exporter.log_path,
                "Alertmanager": alertmanager.server.log_path,
                "Prometheus": prometheus.server.log_path,
            },
        )


def _container(manifests: Sequence[rendered.Manifest], deployment: str) -> str:
    """The name of the Deployment's (one) container."""
    spec = rendered.named(manifests, "Deployment", deployment)["spec"]["template"]["spec"]
    [container] = spec["containers"]
    return str(container["name"])
