"""gunicorn's configuration: `gunicorn -c python:airestaurant.gunicorn_conf`.

One worker process with threads by default: django-prometheus keeps its counters in the
process, so a single process answers /metrics for everything it served. Scale with replicas.
More workers need PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode), which
`config.load_server_config` insists on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from airestaurant.config import load_server_config
from airestaurant.logs import gunicorn_logging

_server = load_server_config(os.environ)

wsgi_app = "airestaurant.wsgi:application"
bind = [_server.bind]
workers = _server.workers
threads = _server.threads
worker_class = "gthread"
# Requests slower than this are cut off, and the worker restarted, rather than hanging forever.
timeout = 30
graceful_timeout = 20
keepalive = 5
loglevel = _server.log_level.lower()
# The error log, and the access log unless AIRESTAURANT_ACCESS_LOG=false, as JSON lines on stdout.
logconfig_dict = gunicorn_logging(_server.log_level, access_log=_server.access_log)
# The root filesystem is read-only in Kubernetes: the heartbeat files go to the memory-backed
# /dev/shm, and the control socket (gunicorn >= 25, under $HOME) is not created at all.
_SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 (private to the container, not a shared /tmp)
worker_tmp_dir = str(_SHARED_MEMORY) if _SHARED_MEMORY.is_dir() else None
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Multiprocess mode: drop the previous run's files, or its counts would be added again."""
    if _server.multiprocess_dir is not None:
        _server.multiprocess_dir.mkdir(parents=True, exist_ok=True)
        for stale in _server.multiprocess_dir.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Multiprocess mode: a dead worker's live gauges must stop counting."""
    if _server.multiprocess_dir is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
