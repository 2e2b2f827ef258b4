"""Run the scraped processes of the stack for real on loopback: the FastAPI app (uvicorn), the
Django site (gunicorn, migrated and seeded) and node_exporter. Each runner is a context manager
yielding a `RunningServer` that is ready to serve and always stopped afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from testkit.airestaurant_server import airestaurant_env, prepare_database, serve_airestaurant
from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.tools import require_tool

# The node_exporter collectors the shipped rules and dashboards read; nothing else on the host
# is touched (no filesystem, network or hwmon collectors).
NODE_COLLECTORS: tuple[str, ...] = ("cpu", "meminfo")


@contextmanager
def run_fastapi(
    workdir: Path,
    *,
    port: int | None = None,
    host: str = LOOPBACK,
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningServer]:
    """fastdining-api as its image runs it (uvicorn, one worker), instrumented."""
    port = port or free_port()
    base_url = f"http://{host}:{port}"
    command = [sys.executable, "-m", "uvicorn", "fastdining_api.app:app"]
    command += ["--host", host, "--port", str(port), "--no-access-log"]
    with run_server(
        command,
        ready_url=f"{base_url}/healthz",
        base_url=base_url,
        log_path=workdir / f"fastapi-{port}.log",
        env={"FASTDINING_METRICS_ENABLED": "true", **(env or {})},
    ) as server:
        yield server


@contextmanager
def run_django(
    workdir: Path,
    *,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningServer]:
    """AIRestaurant on gunicorn with a fresh SQLite database, migrated and seeded first."""
    port = port or free_port()
    data_dir = workdir / f"django-{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    site_env = airestaurant_env(data_dir, port, AIRESTAURANT_ACCESS_LOG="false", **(env or {}))
    prepare_database(site_env)
    with serve_airestaurant(site_env, data_dir / "gunicorn.log") as server:
        yield server


@contextmanager
def run_node_exporter(
    workdir: Path,
    *,
    port: int | None = None,
    host: str = LOOPBACK,
    collectors: Sequence[str] = NODE_COLLECTORS,
) -> Iterator[RunningServer]:
    """node_exporter with only `collectors` enabled."""
    address = f"{host}:{port or free_port()}"
    command: list[str | Path] = [
        require_tool("node_exporter"),
        f"--web.listen-address={address}",
        "--collector.disable-defaults",
        *(f"--collector.{name}" for name in collectors),
    ]
    with run_server(
        command,
        ready_url=f"http://{address}/metrics",
        base_url=f"http://{address}",
        log_path=workdir / "node_exporter.log",
    ) as server:
        yield server
