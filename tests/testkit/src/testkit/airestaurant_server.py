"""Run the AIRestaurant Django site for real: migrate, seed, and serve it with gunicorn on loopback.

Used by the service's integration tests and by its benchmark. Everything runs in child
processes (`python -m airestaurant`, `python -m gunicorn`), exactly as the container does.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from testkit.processes import LOOPBACK, RunningServer, run_server

GUNICORN_COMMAND = (sys.executable, "-m", "gunicorn", "-c", "python:airestaurant.gunicorn_conf")


def airestaurant_env(data_dir: Path, port: int, **overrides: str) -> dict[str, str]:
    """A production-like environment (DEBUG off, a fresh random SECRET_KEY) on loopback."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{data_dir / 'airestaurant.sqlite3'}",
        "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
        "AIRESTAURANT_BIND": f"{LOOPBACK}:{port}",
        **overrides,
    }


def full_env(env: Mapping[str, str], *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """The inherited environment plus `env`, minus the names in `without`."""
    merged = {**os.environ, **env}
    for name in without:
        merged.pop(name, None)
    return merged


def manage(env: Mapping[str, str], *args: str) -> str:
    """Run a management command (`migrate`, `seed_demo`, ...) and return its stdout."""
    return subprocess.run(
        [sys.executable, "-m", "airestaurant", *args],
        env=full_env(env),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def prepare_database(env: Mapping[str, str]) -> None:
    """Migrations and demo data, as the deployment's one-off job does them."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")


def base_url(env: Mapping[str, str]) -> str:
    return f"http://{env['AIRESTAURANT_BIND']}"


@contextmanager
def serve_airestaurant(env: Mapping[str, str], log_path: Path) -> Iterator[RunningServer]:
    """gunicorn with the service's own config file, ready once /ping answers."""
    url = base_url(env)
    with run_server(
        GUNICORN_COMMAND, ready_url=f"{url}/ping", base_url=url, log_path=log_path, env=env
    ) as server:
        yield server


def gunicorn_refusal(env: Mapping[str, str], *, without: tuple[str, ...] = ()) -> tuple[int, str]:
    """Start gunicorn expecting it to give up; return its exit code and output."""
    result = subprocess.run(
        GUNICORN_COMMAND,
        env=full_env(env, without=without),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr
