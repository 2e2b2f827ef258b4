"""The app served by a real uvicorn process on loopback, scraped like Prometheus would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sloalert.exporters import (
    FASTAPI_FAMILIES,
    FASTAPI_LATENCY,
    FASTAPI_LATENCY_BUCKETS,
    FASTAPI_REQUESTS,
    FASTAPI_UNMATCHED_HANDLER,
)
from testkit.logs import json_lines
from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.scrape import assert_family, samples_named, scrape, total

pytestmark = pytest.mark.integration

# Traffic driven before the scrape: path -> (requests, expected status).
TRAFFIC = {
    "/ping": (20, 200),
    "/recommendations?cuisine=korean&limit=2": (5, 200),
    "/recommendations?limit=0": (3, 422),
    "/boom": (7, 500),
    "/no-such-page": (4, 404),
}


def serve(command: list[str], log_path: Path, env: dict[str, str] | None = None, *, port: int):
    base_url = f"http://{LOOPBACK}:{port}"
    return run_server(
        command, ready_url=f"{base_url}/healthz", base_url=base_url, log_path=log_path, env=env
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "fastdining_api.app:app"]
    command += ["--host", LOOPBACK, "--port", str(port)]
    log_path = tmp_path_factory.mktemp("uvicorn") / "fastdining-api.log"
    with serve(
        command,
        log_path,
        {"FASTDINING_METRICS_ENABLED": "true", "FASTDINING_BOOM_ENABLED": "true"},
        port=port,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def families(server: RunningServer):
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        client.get("/metrics")  # a scrape before the traffic: it must not be counted either
        for path, (count, status) in TRAFFIC.items():
            for _ in range(count):
                assert client.get(path).status_code == status, path
    return scrape(f"{server.base_url}/metrics")


def test_every_catalogue_family_exists_with_its_labels(families):
    for family in FASTAPI_FAMILIES:
        assert_family(families, family)


def test_the_latency_histogram_has_exactly_the_catalogue_buckets(families):
    bounds = {
        float(sample.labels["le"])
        for sample in samples_named(families, FASTAPI_LATENCY.bucket, {"handler": "/ping"})
    }
    assert bounds == {*FASTAPI_LATENCY_BUCKETS, float("inf")}
    assert samples_named(families, FASTAPI_LATENCY.bucket, {"handler": "/ping", "le": "1.5"})
    assert total(families, FASTAPI_LATENCY.count, {"handler": "/ping"}) == 20


def test_server_errors_are_counted_as_5xx(families):
    assert total(families, FASTAPI_REQUESTS.name, {"handler": "/boom", "status": "5xx"}) == 7
    assert total(families, FASTAPI_REQUESTS.name, {"status": "5xx"}) == 7


def test_unknown_paths_are_counted_under_handler_none(families):
    unmatched = {"handler": FASTAPI_UNMATCHED_HANDLER, "status": "4xx", "method": "GET"}
    assert total(families, FASTAPI_REQUESTS.name, unmatched) == 4
    assert not samples_named(families, FASTAPI_REQUESTS.name, {"handler": "/no-such-page"})


def test_validation_errors_are_4xx_of_their_handler(families):
    labels = {"handler": "/recommendations", "status": "4xx"}
    assert total(families, FASTAPI_REQUESTS.name, labels) == 3
    assert total(families, FASTAPI_REQUESTS.name, {**labels, "status": "2xx"}) == 5


def test_the_metrics_endpoint_is_not_counted(families):
    assert not [
        sample
        for metric in families.values()
        for sample in metric.samples
        if sample.labels.get("handler") == "/metrics"
    ]


def test_python_m_serves_on_the_configured_host_and_port(tmp_path: Path):
    port = free_port()
    env = {"FASTDINING_HOST": LOOPBACK, "FASTDINING_PORT": str(port)}
    command = [sys.executable, "-m", "fastdining_api"]
    with serve(command, tmp_path / "python-m.log", env, port=port) as running:
        assert httpx.get(f"{running.base_url}/ping", timeout=5.0).text == "pong"
        assert httpx.get(f"{running.base_url}/metrics", timeout=5.0).status_code == 200
        lines = json_lines(running.log())  # every line of output in the shared JSON shape
    assert any(line["message"].startswith("Uvicorn running on") for line in lines)
    assert any('"GET /ping HTTP/1.1" 200' in line["message"] for line in lines)


def test_python_m_refuses_a_bad_setting_in_one_json_line():
    result = subprocess.run(
        [sys.executable, "-m", "fastdining_api"],
        env={"PATH": "/usr/bin:/bin", "FASTDINING_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    [refusal] = json_lines(result.stdout + result.stderr)
    assert refusal["level"] == "critical"
    assert "FASTDINING_PORT" in refusal["fields"]["problems"]
