"""The node-exporter families and `up` in sloalert.exporters, against a real scrape.

The node presets (and the HighCPUUsage and LowMemory seeds) read node_exporter's metrics by the
names and labels the catalogue gives; here the real node_exporter is scraped to hold the
catalogue to what it emits. `up` is not an exporter's metric: Prometheus writes it for every
scrape, so a real Prometheus scrapes node_exporter for a few seconds to show its labels, and
then answers the seeds' own indicator queries on the real series.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from sloalert import exporters, indicators
from sloalert.models import DEFAULT_RATE_WINDOW
from sloalert.validation import load
from testkit import scrape
from testkit import sloalert_testdata as corpus
from testkit.apps import run_node_exporter
from testkit.processes import RunningServer
from testkit.prometheus import RunningPrometheus, ScrapeJob, run_prometheus, target_of

pytestmark = pytest.mark.integration

JOB = "node"
# Prometheus hands new targets to its scrapers at most every 5 s, so the first scrape comes
# about 5 s after start; this leaves room for a loaded machine.
FIRST_SCRAPE_TIMEOUT_SECONDS = 30.0
# The seeds whose indicators read node_exporter's metrics or `up`.
SEEDS_ON_NODE_EXPORTER = ("seed-node-cpu.yaml", "seed-node-memory.yaml", "seed-target-down.yaml")


@pytest.fixture(scope="module")
def node_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_node_exporter(tmp_path_factory.mktemp("node_exporter")) as server:
        yield server


@pytest.fixture(scope="module")
def prometheus(
    node_exporter: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPrometheus]:
    jobs = [ScrapeJob(JOB, [target_of(node_exporter)])]
    with run_prometheus(tmp_path_factory.mktemp("prometheus"), jobs) as server:
        yield server


@pytest.mark.parametrize("family", exporters.NODE_FAMILIES, ids=lambda f: f.name)
def test_node_exporter_emits_each_node_family_with_its_labels(
    family: exporters.Family, node_exporter: RunningServer
) -> None:
    scrape.assert_family(scrape.scrape(f"{node_exporter.base_url}/metrics"), family)


def test_prometheus_writes_up_with_the_catalogues_labels(prometheus: RunningPrometheus) -> None:
    [sample] = _query_until_found(prometheus, exporters.UP.name)
    assert set(sample["metric"]) == {"__name__", *exporters.UP.labels}
    assert sample["metric"]["job"] == JOB
    assert sample["value"][1] == "1"


@pytest.mark.parametrize("manifest", SEEDS_ON_NODE_EXPORTER)
def test_the_node_seeds_indicators_read_real_series(
    manifest: str, prometheus: RunningPrometheus
) -> None:
    slo = load(yaml.safe_load((corpus.MANIFESTS / manifest).read_text(encoding="utf-8")))
    sli = indicators.build(slo.spec.indicator)
    window = slo.spec.alerting.rate_window or DEFAULT_RATE_WINDOW
    assert _query_until_found(prometheus, sli.value(window))


def _query_until_found(prometheus: RunningPrometheus, query: str) -> list[dict[str, Any]]:
    """The instant query's samples, once the first scrapes have produced any."""
    return prometheus.wait_for(
        f"a sample of {query}",
        lambda: prometheus.query(query),
        timeout=FIRST_SCRAPE_TIMEOUT_SECONDS,
        interval=0.2,
    )
