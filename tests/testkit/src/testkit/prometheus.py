"""Run a real Prometheus 3 on loopback with given scrape jobs, rule files and Alertmanagers,
and ask it what tests need: instant queries, series, targets, rule health, alerts.

Intervals are short (1 s scrape and evaluation by default) so a test sees scrapes, recording
rules and alerts within seconds; everything else is Prometheus' default. The process always
stops when the `with` block ends, also when it fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from testkit.kube import wait_for
from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.tools import require_tool

SHORT_INTERVAL = "1s"
# Prometheus 3 discovers static targets and hands them to its scrapers within about 5 s; a
# loaded machine needs more.
TARGETS_TIMEOUT_SECONDS = 60.0
# A rule group that has never run reports this as its last evaluation.
_NEVER = "0001-01-01T00:00:00Z"

Sample = dict[str, Any]


class PrometheusError(RuntimeError):
    """Prometheus answered an API call with an error (bad query, unknown endpoint...)."""


@dataclass(frozen=True)
class ScrapeJob:
    """One scrape job: its `job` label and the `host:port` targets it scrapes."""

    job: str
    targets: Sequence[str]
    metrics_path: str = "/metrics"
    labels: Mapping[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        static: dict[str, Any] = {"targets": list(self.targets)}
        if self.labels:
            static["labels"] = dict(self.labels)
        return {
            "job_name": self.job,
            "metrics_path": self.metrics_path,
            "static_configs": [static],
        }


def target_of(server: RunningServer) -> str:
    """The `host:port` Prometheus scrapes for a server started by testkit."""
    return server.base_url.removeprefix("http://").removeprefix("https://").rstrip("/")


def prometheus_config(
    jobs: Sequence[ScrapeJob],
    *,
    rule_files: Sequence[Path] = (),
    alertmanagers: Sequence[str] = (),
    scrape_interval: str = SHORT_INTERVAL,
    evaluation_interval: str = SHORT_INTERVAL,
) -> dict[str, Any]:
    """The whole prometheus.yml as a dict (pure: the runner writes it)."""
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": evaluation_interval,
        },
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [job.config() for job in jobs],
    }
    if alertmanagers:
        targets = [url.removeprefix("http://").rstrip("/") for url in alertmanagers]
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": targets}]}]}
    return config


@dataclass
class RunningPrometheus:
    server: RunningServer
    config_file: Path

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def log(self) -> str:
        return self.server.log()

    def api(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET /api/v1/<path> and return its `data`; an error answer raises PrometheusError."""
        response = httpx.get(f"{self.base_url}/api/v1/{path}", params=params, timeout=30.0)
        try:
            body = response.json()
        except ValueError:
            raise PrometheusError(f"{path}: HTTP {response.status_code} {response.text}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {dict(params or {})}: {body.get('error', body)}")
        return body["data"]

    def query(self, expr: str) -> list[Sample]:
        """An instant query's samples (vector results; a scalar comes back as one sample)."""
        data = self.api("query", {"query": expr})
        if data["resultType"] in {"scalar", "string"}:
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def series(self, match: str | Sequence[str], *, lookback_seconds: float = 3600) -> list[dict]:
        """Label sets of the series a selector matches over the last `lookback_seconds`."""
        matches = [match] if isinstance(match, str) else list(match)
        now = time.time()
        return list(
            self.api("series", {"match[]": matches, "start": now - lookback_seconds, "end": now})
        )

    def targets(self) -> list[dict[str, Any]]:
        return list(self.api("targets", {"state": "active"})["activeTargets"])

    def rule_groups(self) -> list[dict[str, Any]]:
        return list(self.api("rules")["groups"])

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts pending or firing right now (Prometheus' view, before Alertmanager)."""
        return list(self.api("alerts")["alerts"])

    def wait_for(
        self,
        what: str,
        check: Callable[[], Any],
        *,
        timeout: float,
        interval: float = 0.5,
    ) -> Any:
        """`testkit.kube.wait_for` on this Prometheus: its log is added when it times out."""
        try:
            return wait_for(check, what=what, timeout=timeout, interval=interval)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; Prometheus log:\n{self.log()}") from None

    def wait_for_targets_up(
        self, jobs: Iterable[str] | None = None, *, timeout: float = TARGETS_TIMEOUT_SECONDS
    ) -> list[dict[str, Any]]:
        """Wait until every target (of `jobs`, if given) has been scraped and is up."""
        wanted = set(jobs) if jobs is not None else None

        def all_up() -> list[dict[str, Any]] | None:
            targets = [
                t for t in self.targets() if wanted is None or t["labels"].get("job") in wanted
            ]
            seen = {t["labels"].get("job") for t in targets}
            if wanted is not None and not wanted <= seen:
                return None
            return targets if targets and all(t["health"] == "up" for t in targets) else None

        try:
            return self.wait_for("every target up", all_up, timeout=timeout)
        except TimeoutError as exc:
            states = [
                f"{t['labels'].get('job')} {t['scrapeUrl']}: {t['health']} {t['lastError']}"
                for t in self.targets()
            ]
            raise TimeoutError("targets not all up:\n  " + "\n  ".join(states)) from exc

    def wait_for_rule_evaluations(self, *, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until every loaded rule group has been evaluated at least once."""

        def all_evaluated() -> list[dict[str, Any]] | None:
            groups = self.rule_groups()
            done = groups and all(group["lastEvaluation"] != _NEVER for group in groups)
            return groups if done else None

        return self.wait_for("every rule group evaluated", all_evaluated, timeout=timeout)

    def rule_problems(self) -> list[str]:
        """Each rule that is not healthy or reported an error, as `file group rule: error`."""
        problems = []
        for group in self.rule_groups():
            for rule in group["rules"]:
                if rule.get("health") != "ok" or rule.get("lastError"):
                    name = rule.get("name", "?")
                    problems.append(
                        f"{group['file']} {group['name']} {name}: health {rule.get('health')}, "
                        f"{rule.get('lastError') or 'no error text'}"
                    )
        return problems

    def firing(self, alertname: str, **labels: str) -> list[dict[str, Any]]:
        """The firing alerts called `alertname` whose labels include `labels`."""
        return [
            a
            for a in self.alerts()
            if a["state"] == "firing"
            and a["labels"].get("alertname") == alertname
            and all(a["labels"].get(k) == v for k, v in labels.items())
        ]

    def reload(self) -> None:
        """Re-read the configuration and rule files (needs the lifecycle API, always on here)."""
        httpx.post(f"{self.base_url}/-/reload", timeout=30.0).raise_for_status()


@contextmanager
def run_prometheus(
    workdir: Path,
    jobs: Sequence[ScrapeJob],
    *,
    rule_files: Sequence[Path] = (),
    alertmanagers: Sequence[str] = (),
    scrape_interval: str = SHORT_INTERVAL,
    evaluation_interval: str = SHORT_INTERVAL,
    port: int | None = None,
    host: str = LOOPBACK,
    timeout: float = 60.0,
) -> Iterator[RunningPrometheus]:
    """Prometheus with this configuration, ready (`/-/ready`) when the block starts."""
    binary = require_tool("prometheus")
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "prometheus.yml"
    config = prometheus_config(
        jobs,
        rule_files=rule_files,
        alertmanagers=alertmanagers,
        scrape_interval=scrape_interval,
        evaluation_interval=evaluation_interval,
    )
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    base_url = f"http://{host}:{port}"
    command = [
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address={host}:{port}",
        "--web.enable-lifecycle",
    ]
    with run_server(
        command,
        ready_url=f"{base_url}/-/ready",
        base_url=base_url,
        log_path=workdir / "prometheus.log",
        timeout=timeout,
    ) as server:
        yield RunningPrometheus(server=server, config_file=config_file)
