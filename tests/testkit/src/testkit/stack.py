"""The whole alert path as real processes on loopback, the way the umbrella chart wires it:

    FastAPI (job fastapi), Django (job django), node_exporter (job node-exporter)
      -> Prometheus (rules: `sloalert render --format rules` of the SLOAlerts the umbrella ships)
      -> Alertmanager (the umbrella's configuration, addresses and paths localized)
      -> discord-relay (bearer token from a file) -> Discord, its stand-in, or the relay's log

Also running, so that the alerting path's own metrics are real too: the SLOAlert operator on
the local test API server (etcd + test-apiserver), reconciling the same shipped SLOAlerts, and
Prometheus scraping it and the relay. (Its PrometheusRules are not what Prometheus loads here:
no prometheus-operator runs; the CLI renders the same rules from the same files.)

One implementation for the pipeline test, the dead-query check, `make local` and the whole-path
benchmark. Nothing is copied from the charts: the `job` labels come from the app charts'
values, the Alertmanager configuration and the SLOAlert list from `testkit.stack_config`.

What differs from a cluster, on purpose and only here: addresses and file paths (done by
`stack_config.localize_alertmanager_config`), and Prometheus' scrape and evaluation intervals,
1 s instead of kube-prometheus-stack's 30 s, so a test sees scrapes, rules and alerts within
seconds; the rule groups that set an interval of their own (each SLO's error-budget group,
2m30s) get the same short one, or their first evaluation could come after a test is over.
Alertmanager's timers (group_wait, group_interval, ...) stay as shipped.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from testkit import stack_config
from testkit.alertmanager import RunningAlertmanager, run_alertmanager
from testkit.apiserver import Cluster, run_apiserver
from testkit.apps import run_django, run_fastapi, run_node_exporter
from testkit.discord import Standin, run_discord_standin, run_relay
from testkit.kube import kubectl
from testkit.processes import LOOPBACK, RunningServer, free_port
from testkit.prometheus import (
    SHORT_INTERVAL,
    RunningPrometheus,
    ScrapeJob,
    run_prometheus,
    target_of,
)
from testkit.sloalert_cluster import MONITORING_STAND_INS, OPERATOR_CRDS, operator_process
from testkit.tools import REPO_ROOT

CHARTS_DIR = REPO_ROOT / "charts"
# kube-prometheus-stack's node exporter (the prometheus-node-exporter chart) labels its Service
# `jobLabel: node-exporter` and its ServiceMonitor takes the job from that label.
NODE_EXPORTER_JOB = "node-exporter"
# The relay's and the operator's ServiceMonitors take the job from their Service's name: the
# umbrella fixes the relay's, the operator's carries the release name. No query reads either.
RELAY_JOB = stack_config.RELAY_FULLNAME
OPERATOR_JOB = "sloalert-operator"
# Where the operator finds the shipped SLOAlerts on the local API server.
SLOALERT_NAMESPACE = "fdc"


def chart_job(chart: str) -> str:
    """The `job` label an app chart gives its scraped series (`serviceMonitor.job`)."""
    values = yaml.safe_load((CHARTS_DIR / chart / "values.yaml").read_text(encoding="utf-8"))
    return str(values["serviceMonitor"]["job"])


def stack_jobs() -> dict[str, str]:
    """The `job` label of each scraped part, by part: as the charts set them."""
    return {
        "fastapi": chart_job("fastdining-api"),
        "django": chart_job("airestaurant"),
        "node_exporter": NODE_EXPORTER_JOB,
        "relay": RELAY_JOB,
        "operator": OPERATOR_JOB,
    }


@dataclass(frozen=True)
class Ports:
    """Where each process listens; 0 takes a free port (tests), `LOCAL_PORTS` the seed's."""

    fastapi: int = 0
    django: int = 0
    relay: int = 0
    prometheus: int = 0
    alertmanager: int = 0
    node_exporter: int = 0
    operator: int = 0  # its metrics; its health port is the next one


LOCAL_PORTS = Ports(
    fastapi=8000,
    django=8900,
    relay=8800,
    prometheus=9090,
    alertmanager=9093,
    node_exporter=9100,
    operator=8080,
)


@dataclass
class Stack:
    workdir: Path
    fastapi: RunningServer
    django: RunningServer
    node_exporter: RunningServer
    relay: RunningServer
    operator: RunningServer
    cluster: Cluster
    alertmanager: RunningAlertmanager
    prometheus: RunningPrometheus
    rule_file: Path
    sloalert_files: list[Path]
    jobs: dict[str, str]
    evaluation_interval: str  # Prometheus' and every rule group's
    standin: Standin | None = None
    # The Discord webhook the relay posts to (None: the relay's log sink).
    webhook_url: str | None = None
    logs: dict[str, Path] = field(default_factory=dict)

    def urls(self) -> dict[str, str]:
        """Every URL a person (or a test) looks at, by name."""
        prometheus = self.prometheus.base_url
        alertmanager = self.alertmanager.base_url
        urls = {
            "FastAPI": f"{self.fastapi.base_url}/docs",
            "FastAPI metrics": f"{self.fastapi.base_url}/metrics",
            "Django": f"{self.django.base_url}/restaurants/",
            "Django metrics": f"{self.django.base_url}/metrics",
            "node-exporter metrics": f"{self.node_exporter.base_url}/metrics",
            "Prometheus targets": f"{prometheus}/targets",
            "Prometheus rules": f"{prometheus}/rules",
            "Prometheus alerts": f"{prometheus}/alerts",
            "Alertmanager": f"{alertmanager}/#/alerts",
            "relay readiness": f"{self.relay.base_url}/readyz",
            "relay metrics": f"{self.relay.base_url}/metrics",
            "operator metrics": f"{self.operator.base_url}/metrics",
        }
        if self.standin is not None:
            urls["Discord stand-in"] = f"{self.standin.base_url}/_control/accepted"
        return urls


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


def _write_secret(path: Path, value: str) -> Path:
    """A file only this user can read, like a mounted Secret key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(value, encoding="utf-8")
    return path


def relay_secret_dir(secrets_dir: Path) -> Path:
    """Where the relay's Secret is "mounted": the folder the localized config reads from."""
    return secrets_dir / stack_config.RELAY_FULLNAME


@contextmanager
def run_stack(
    workdir: Path,
    *,
    ports: Ports = Ports(),
    discord: str = "standin",
    scrape_interval: str = SHORT_INTERVAL,
    evaluation_interval: str = SHORT_INTERVAL,
) -> Iterator[Stack]:
    """Start every process, in dependency order, and stop all of them when the block ends
    (also when starting one of them fails).

    `discord`: "standin" (the Discord stand-in, for tests), "log" (the relay's log sink) or a
    Discord webhook URL (kept in a file, as the relay's Secret would hold it).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    secrets_dir = workdir / "secrets"
    relay_dir = relay_secret_dir(secrets_dir)
    token_file = _write_secret(relay_dir / "token", secrets.token_urlsafe(32))
    templates_dir = workdir / "alertmanager-templates"
    templates_dir.mkdir(exist_ok=True)
    sloalert_files = stack_config.shipped_sloalert_files()
    rule_file = workdir / "rules" / "sloalert-rules.yaml"
    render_rules(sloalert_files, rule_file, group_interval=evaluation_interval)
    jobs = stack_jobs()

    with ExitStack() as stack:
        standin = None
        webhook_url: str | None = None
        if discord == "standin":
            standin = stack.enter_context(run_discord_standin(workdir))
            webhook_url = standin.webhook_url()
        elif discord != "log":
            webhook_url = discord
        env = {"RELAY_AUTH_TOKEN_FILE": str(token_file)}
        if webhook_url is not None:
            url_file = _write_secret(relay_dir / "webhook-url", webhook_url)
            env["DISCORD_WEBHOOK_URL_FILE"] = str(url_file)
        relay = stack.enter_context(run_relay(workdir, env, port=ports.relay or None))

        config = stack_config.localize_alertmanager_config(
            stack_config.alertmanager_config(),
            relay_url=relay.base_url,
            secrets_dir=secrets_dir,
            templates_dir=templates_dir,
        )
        alertmanager = stack.enter_context(
            run_alertmanager(workdir, config, port=ports.alertmanager or None)
        )

        prometheus_port = ports.prometheus or free_port()
        cluster = stack.enter_context(
            run_apiserver(workdir / "apiserver", [*OPERATOR_CRDS, *MONITORING_STAND_INS])
        )
        # The local server needs no Namespace object: custom resources live in any namespace.
        kubectl(
            cluster.kubeconfig,
            "apply",
            f"--namespace={SLOALERT_NAMESPACE}",
            *(f"--filename={path}" for path in sloalert_files),
        )
        operator = stack.enter_context(
            operator_process(
                cluster.kubeconfig,
                workdir / "sloalert-operator.log",
                {"SLOALERT_PROMETHEUS_URL": f"http://{LOOPBACK}:{prometheus_port}"},
                metrics_port=ports.operator or None,
                health_port=ports.operator + 1 if ports.operator else None,
            )
        )

        fastapi = stack.enter_context(run_fastapi(workdir, port=ports.fastapi or None))
        django = stack.enter_context(run_django(workdir, port=ports.django or None))
        node_exporter = stack.enter_context(
            run_node_exporter(workdir, port=ports.node_exporter or None)
        )
        scrape_jobs = [
            ScrapeJob(jobs["fastapi"], [target_of(fastapi)]),
            ScrapeJob(jobs["django"], [target_of(django)]),
            ScrapeJob(jobs["node_exporter"], [target_of(node_exporter)]),
            ScrapeJob(jobs["relay"], [target_of(relay)]),
            ScrapeJob(jobs["operator"], [target_of(operator)]),
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
        yield Stack(
            workdir=workdir,
            fastapi=fastapi,
            django=django,
            node_exporter=node_exporter,
            relay=relay,
            operator=operator,
            cluster=cluster,
            alertmanager=alertmanager,
            prometheus=prometheus,
            rule_file=rule_file,
            sloalert_files=sloalert_files,
            jobs=jobs,
            evaluation_interval=evaluation_interval,
            standin=standin,
            webhook_url=webhook_url,
            logs={
                "FastAPI": fastapi.log_path,
                "Django": django.log_path,
                "node-exporter": node_exporter.log_path,
                "relay": relay.log_path,
                "operator": operator.log_path,
                "Alertmanager": alertmanager.server.log_path,
                "Prometheus": prometheus.server.log_path,
            },
        )
