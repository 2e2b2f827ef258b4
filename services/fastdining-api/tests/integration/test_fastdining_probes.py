"""Probes and scrapes stay out of the request metrics: the chart's probe paths are in the
app's default excluded paths, and a real uvicorn process probed the way the kubelet probes it
and scraped by a real Prometheus records none of it, so an idle app reads 0 req/s."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastdining_api.config import EXCLUDED_PATHS, HTTP_METHODS, OTHER_METHOD
from sloalert.exporters import FASTAPI_LATENCY, FASTAPI_REQUESTS
from testkit.apps import run_fastapi
from testkit.probes import chart_probe_paths, kubelet_get
from testkit.prometheus import ScrapeJob, run_prometheus, target_of
from testkit.scrape import samples_named, scrape

pytestmark = pytest.mark.integration

JOB = "fastapi"
USER_REQUESTS = 3
PROBE_ROUNDS = 6
# Long enough to hold several 1 s scrapes, all after the user requests.
IDLE_WINDOW = "4s"
ODD_METHODS = ("PROPFIND", "MKCOL", "PURGE", "REPORT", "SEARCH", "LINK", "UNLINK", "NOTIFY")


def test_the_charts_probe_paths_are_left_out_by_default() -> None:
    probed = chart_probe_paths("fastdining-api")
    assert probed, "the chart renders HTTP probes"
    assert probed <= set(EXCLUDED_PATHS), f"probed but counted: {probed - set(EXCLUDED_PATHS)}"
    assert "/metrics" in EXCLUDED_PATHS


def test_probed_and_scraped_but_idle_it_records_nothing_and_reads_0_rps(tmp_path: Path) -> None:
    probed = chart_probe_paths("fastdining-api")
    with (
        run_fastapi(tmp_path) as app,
        run_prometheus(tmp_path / "prometheus", [ScrapeJob(JOB, [target_of(app)])]) as prometheus,
    ):
        prometheus.wait_for_targets_up()
        for _ in range(USER_REQUESTS):
            assert httpx.get(f"{app.base_url}/ping").status_code == 200
        for _ in range(PROBE_ROUNDS):
            for path in probed:
                assert kubelet_get(app.base_url, path) == 200
            time.sleep(1)
        families = scrape(f"{app.base_url}/metrics")
        rps = prometheus.query(f'sum(rate({FASTAPI_REQUESTS.name}{{job="{JOB}"}}[{IDLE_WINDOW}]))')
        counted = prometheus.query(f'sum({FASTAPI_REQUESTS.name}{{job="{JOB}"}})')
    handlers = {s.labels["handler"] for s in samples_named(families, FASTAPI_REQUESTS.name)}
    assert handlers == {"/ping"}, "probes and scrapes are not requests"
    timed = {s.labels["handler"] for s in samples_named(families, FASTAPI_LATENCY.count)}
    assert timed == {"/ping"}
    assert [float(sample["value"][1]) for sample in counted] == [USER_REQUESTS]
    assert [float(sample["value"][1]) for sample in rps] == [0.0], "idle: 0 req/s"


def test_a_made_up_method_adds_no_series(tmp_path: Path) -> None:
    with run_fastapi(tmp_path) as app, httpx.Client(base_url=app.base_url) as client:
        # uvicorn's parser (llhttp) answers 400 itself for a token it does not know, BREW0...;
        # the methods it knows beyond HTTP's reach the app, one series each before.
        answered = {method: client.request(method, "/ping").status_code for method in ODD_METHODS}
        answered |= {f"BREW{n}": client.request(f"BREW{n}", "/ping").status_code for n in range(20)}
        families = scrape(f"{app.base_url}/metrics")
    assert 405 in answered.values(), answered
    methods = {
        sample.labels["method"]
        for name in (FASTAPI_REQUESTS.name, FASTAPI_LATENCY.count)
        for sample in samples_named(families, name)
    }
    assert methods == {OTHER_METHOD}
    assert OTHER_METHOD not in HTTP_METHODS
