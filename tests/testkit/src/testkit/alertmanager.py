"""Run a real Alertmanager on loopback with a given configuration, and post alerts to it.

Clustering is off (`--cluster.listen-address=`), state lives in the test's tmp folder, and the
helpers keep the timers short so a test sees its notifications within seconds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.tools import require_tool

# Timers for tests: notify at once, re-notify a changed group after 1s, never repeat on its own.
FAST_ROUTE = {"group_wait": "0s", "group_interval": "1s", "repeat_interval": "1h"}


@dataclass
class RunningAlertmanager:
    server: RunningServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        response = httpx.post(f"{self.base_url}/api/v2/alerts", json=alerts, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(
                f"Alertmanager refused the alerts: {response.status_code} {response.text}"
            )

    def alerts(self, **labels: str) -> list[dict[str, Any]]:
        """Alerts Alertmanager holds whose labels include `labels`, with their status
        (`state`: active, suppressed, unprocessed; `inhibitedBy`, `silencedBy`)."""
        filters = [f'{name}="{value}"' for name, value in labels.items()]
        response = httpx.get(
            f"{self.base_url}/api/v2/alerts", params={"filter": filters}, timeout=10
        )
        response.raise_for_status()
        return list(response.json())

    def log(self) -> str:
        return self.server.log()


def alert(
    name: str,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    resolved: bool = False,
    starts_at: datetime | None = None,
) -> dict[str, Any]:
    """An alert as Alertmanager's API takes it. Resolved: it ended a moment ago."""
    now = datetime.now(UTC)
    start = starts_at or now - timedelta(seconds=5)
    end = now - timedelta(milliseconds=1) if resolved else now + timedelta(hours=1)
    return {
        "labels": {"alertname": name, **(labels or {})},
        "annotations": dict(annotations or {}),
        "startsAt": start.isoformat(),
        "endsAt": end.isoformat(),
        "generatorURL": f"http://prometheus.example/graph?g0.expr={name}",
    }


def route_to(receiver: Mapping[str, Any], **route: Any) -> dict[str, Any]:
    """A whole configuration that sends every alert to one receiver, grouped by alertname."""
    return {
        "route": {
            "receiver": receiver["name"],
            "group_by": ["alertname"],
            **FAST_ROUTE,
            **route,
        },
        "receivers": [dict(receiver)],
    }


# Debian's build reads its default notification templates from this fixed path.
_DEBIAN_SHARE = Path("/usr/share/prometheus/alertmanager")


def _launcher(binary: Path, overlays: Mapping[str, Path]) -> list[str]:
    """How to start `binary`: in a private mount namespace when files must appear at fixed
    paths (nothing changes outside it). `overlays` lays each directory over an absolute path
    (read-only: a pod's mounted Secrets, say). Debian's build, unpacked (not installed) by
    install-tools.sh, looks for its templates under /usr/share; when they are only in the
    unpacked tree, that tree is laid over /usr/share the same way."""
    real = binary.resolve()
    unpacked_share = real.parents[1] / "share"
    layers = dict(overlays)
    if (
        not _DEBIAN_SHARE.joinpath("default.tmpl").exists()
        and unpacked_share.joinpath("prometheus", "alertmanager", "default.tmpl").exists()
    ):
        layers["/usr/share"] = unpacked_share
    if not layers:
        return [str(binary)]
    mounts = [
        f"mount -t overlay overlay -o lowerdir={tree}:{target} {target}"
        for target, tree in layers.items()
    ]
    script = " && ".join([*mounts, 'exec "$0" "$@"'])
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(real)]


@contextmanager
def run_alertmanager(
    tmp_path: Path,
    config: Mapping[str, Any],
    *,
    port: int | None = None,
    overlays: Mapping[str, Path] | None = None,
) -> Iterator[RunningAlertmanager]:
    """Alertmanager with `config`; `overlays`: see `_launcher`."""
    binary = require_tool("alertmanager")
    port = port or free_port()
    workdir = tmp_path / f"alertmanager-{port}"
    (workdir / "data").mkdir(parents=True)
    config_file = workdir / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")
    base_url = f"http://{LOOPBACK}:{port}"
    with run_server(
        [
            *_launcher(binary, overlays or {}),
            f"--config.file={config_file}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{port}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ],
        ready_url=f"{base_url}/-/ready",
        base_url=base_url,
        log_path=workdir / "alertmanager.log",
    ) as server:
        yield RunningAlertmanager(server)


# ---------------------------------------------------------------------------------------------
# What Alertmanager (and Grafana, which extends it) posts to a webhook receiver


def webhook_alert(
    name: str,
    *,
    status: str = "firing",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One alert of a webhook payload (version 4); `extra` adds fields such as Grafana's."""
    all_labels = {"alertname": name, **(labels or {})}
    return {
        "status": status,
        "labels": all_labels,
        "annotations": dict(annotations or {}),
        "startsAt": "2026-11-23T10:00:00.123456789Z",
        "endsAt": "2026-11-23T10:05:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.example/graph?g0.expr={name}",
        "fingerprint": fingerprint or _fingerprint(all_labels),
        **extra,
    }


def _fingerprint(labels: Mapping[str, str]) -> str:
    encoded = json.dumps(sorted(labels.items())).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def webhook_payload(
    alerts: list[dict[str, Any]],
    *,
    status: str | None = None,
    group_key: str = '{}:{alertname="TestAlert"}',
    receiver: str = "relay",
    **extra: Any,
) -> dict[str, Any]:
    """A whole webhook notification (version 4) carrying `alerts`."""
    firing = any(item["status"] == "firing" for item in alerts)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": receiver,
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]} if alerts else {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": alerts,
        **extra,
    }
