"""The node-exporter families and `up` in sloalert.exporters, against a real scrape.

The node presets (and the HighCPUUsage and LowMemory seeds) read node_exporter's metrics by the
names and labels the catalogue gives; here the real node_exporter is scraped to hold the
catalogue to what it emits. `up` is not an exporter's metric: Prometheus writes it for every
scrape, so a real Prometheus scrapes node_exporter for a few seconds to show its labels, and
then answers the seeds' own indicator queries on the real series.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from sloalert import exporters, indicators
from sloalert.models import DEFAULT_RATE_WINDOW
from sloalert.validation import load
from testkit import scrape
from testkit.processes import LOOPBACK, RunningServer, free_port, run_server
from testkit.tools import require_tool

from . import corpus

pytestmark = pytest.mark.integration

JOB = "node"
# Only the collectors the catalogue reads: fast to scrape, and nothing else on this host is
# touched (no filesystem, network or hwmon collectors).
COLLECTORS = ("--collector.disable-defaults", "--collector.cpu", "--collector.meminfo")
SCRAPE_INTERVAL = "1s"
# Prometheus hands new targets to its scrapers at most every 5 s, so the first scrape comes
# about 5 s after start; this leaves room for a loaded machine.
FIRST_SCRAPE_TIMEOUT_SECONDS = 30.0
# The seeds whose indicators read node_exporter's metrics or `up`.
SEEDS_ON_NODE_EXPORTER = ("seed-node-cpu.yaml", "seed-node-memory.yaml", "seed-target-down.yaml")


@pytest.fixture(scope="module")
def node_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    address = f"{LOOPBACK}:{free_port()}"
    command = [require_tool("node_exporter"), f"--web.listen-address={address}", *COLLECTORS]
    with run_server(
        command,
        ready_url=f"http://{address}/metrics",
        base_url=f"http://{address}",
        log_path=tmp_path_factory.mktemp("node_exporter") / "node_exporter.log",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def prometheus(
    node_exporter: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": JOB,
                "static_configs": [{"targets": [node_exporter.base_url.removeprefix("http://")]}],
            }
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    address = f"{LOOPBACK}:{free_port()}"
    command = [
        require_tool("prometheus"),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address={address}",
    ]
    with run_server(
        command,
        ready_url=f"http://{address}/-/ready",
        base_url=f"http://{address}",
        log_path=workdir / "prometheus.log",
    ) as server:
        yield server


@pytest.mark.parametrize("family", exporters.NODE_FAMILIES, ids=lambda f: f.name)
def test_node_exporter_emits_each_node_family_with_its_labels(
    family: exporters.Family, node_exporter: RunningServer
) -> None:
    scrape.assert_family(scrape.scrape(f"{node_exporter.base_url}/metrics"), family)


def test_prometheus_writes_up_with_the_catalogues_labels(prometheus: RunningServer) -> None:
    [sample] = _query_until_found(prometheus, exporters.UP.name)
    assert set(sample["metric"]) == {"__name__", *exporters.UP.labels}
    assert sample["metric"]["job"] == JOB
    assert sample["value"][1] == "1"


@pytest.mark.parametrize("manifest", SEEDS_ON_NODE_EXPORTER)
def test_the_node_seeds_indicators_read_real_series(
    manifest: str, prometheus: RunningServer
) -> None:
    slo = load(yaml.safe_load((corpus.MANIFESTS / manifest).read_text(encoding="utf-8")))
    sli = indicators.build(slo.spec.indicator)
    window = slo.spec.alerting.rate_window or DEFAULT_RATE_WINDOW
    assert _query_until_found(prometheus, sli.value(window))


def _query_until_found(prometheus: RunningServer, query: str) -> list[dict[str, Any]]:
    """The instant query's samples, once the first scrapes have produced any."""
    deadline = time.monotonic() + FIRST_SCRAPE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        response = httpx.get(f"{prometheus.base_url}/api/v1/query", params={"query": query})
        response.raise_for_status()
        result = response.json()["data"]["result"]
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(
        f"{query} returned nothing after {FIRST_SCRAPE_TIMEOUT_SECONDS}s:\n{prometheus.log()}"
    )
