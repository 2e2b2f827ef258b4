"""testkit.overhead's WSGI worker: a spawned process serving one app, with its own environment."""

from __future__ import annotations

import pytest
from testkit.overhead import wsgi_worker

# The standard library's demo app lists its WSGI environ: 200 for any path.
DEMO_APP = "wsgiref.simple_server:demo_app"


def test_a_worker_serves_its_app_and_times_its_own_cpu() -> None:
    with wsgi_worker(DEMO_APP, {"BENCH_SIDE": "a"}, host="127.0.0.1:8900", name="demo") as worker:
        status, body = worker.get("/ping?x=1")
        assert worker.cpu_per_request("/ping", 50) > 0
    assert status == 200
    assert b"PATH_INFO = '/ping'" in body and b"QUERY_STRING = 'x=1'" in body


def test_a_worker_that_cannot_load_its_app_says_so() -> None:
    with (
        pytest.raises(RuntimeError, match="the broken worker failed: ModuleNotFoundError"),
        wsgi_worker("no_such_module:app", {}, host="127.0.0.1:8900", name="broken"),
    ):
        pass
