"""Probes and scrapes stay out of the request metrics, and no label takes a value of the
client's choosing: the chart's probe paths are in the site's default excluded paths; real
gunicorn, probed the way the kubelet probes it and scraped by a real Prometheus, records none
of it (an idle site reads 0 req/s); made-up methods add no series; /boom is off by default."""

from __future__ import annotations

import string
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from airestaurant.config import DEFAULT_METRICS_EXCLUDED_PATHS
from airestaurant.request_metrics import HTTP_METHODS, INVALID_METHOD
from sloalert.exporters import DJANGO_LATENCY, DJANGO_RESPONSES
from testkit.airestaurant_server import airestaurant_env, prepare_database, serve_airestaurant
from testkit.probes import chart_probe_paths, kubelet_get
from testkit.processes import RunningServer, free_port
from testkit.prometheus import ScrapeJob, run_prometheus, target_of
from testkit.scrape import samples_named, scrape

pytestmark = pytest.mark.integration

JOB = "django"
USER_REQUESTS = 3
PROBE_ROUNDS = 6
IDLE_WINDOW = "4s"  # several 1 s scrapes, all after the user requests
MADE_UP_METHODS = 100


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Served as the chart serves it, with the defaults: /boom off, probes left out."""
    data_dir = tmp_path_factory.mktemp("airestaurant")
    env = airestaurant_env(data_dir, free_port())
    prepare_database(env)
    with serve_airestaurant(env, data_dir / "gunicorn.log") as running:
        yield running


def test_the_charts_probe_paths_are_left_out_by_default() -> None:
    probed = chart_probe_paths("airestaurant")
    assert probed, "the chart renders HTTP probes"
    excluded = set(DEFAULT_METRICS_EXCLUDED_PATHS)
    assert probed <= excluded, f"probed but counted: {probed - excluded}"
    assert "/metrics" in excluded


def test_probed_and_scraped_but_idle_it_records_nothing_and_reads_0_rps(
    site: RunningServer, tmp_path: Path
) -> None:
    probed = chart_probe_paths("airestaurant")
    with run_prometheus(tmp_path, [ScrapeJob(JOB, [target_of(site)])]) as prometheus:
        prometheus.wait_for_targets_up()
        before = scrape(f"{site.base_url}/metrics")
        for _ in range(USER_REQUESTS):
            assert httpx.get(f"{site.base_url}/ping").status_code == 200
        for _ in range(PROBE_ROUNDS):
            for path in probed:
                assert kubelet_get(site.base_url, path) == 200
            time.sleep(1)
        after = scrape(f"{site.base_url}/metrics")
        name = DJANGO_RESPONSES.name
        rps = prometheus.query(f'sum(rate({name}{{job="{JOB}"}}[{IDLE_WINDOW}]))')
    views = {s.labels["view"] for s in samples_named(after, DJANGO_RESPONSES.name)}
    timed = {s.labels["view"] for s in samples_named(after, DJANGO_LATENCY.count)}
    assert "healthz" not in views | timed, "a probe is not a request"
    assert "prometheus-django-metrics" not in views | timed, "a scrape is not a request"

    def pings(families: dict) -> float:
        return sum(s.value for s in samples_named(families, name, {"view": "ping"}))

    assert pings(after) - pings(before) == USER_REQUESTS
    assert [float(sample["value"][1]) for sample in rps] == [0.0], "idle: 0 req/s"


def test_made_up_methods_add_no_series(site: RunningServer) -> None:
    def series(families: dict) -> set[tuple]:
        return {
            (s.name, tuple(sorted(s.labels.items())))
            for family in (DJANGO_RESPONSES.name, DJANGO_LATENCY.bucket, DJANGO_LATENCY.count)
            for s in samples_named(families, family)
        }

    letters = string.ascii_uppercase
    methods = [f"BREW{letters[n // 26]}{letters[n % 26]}" for n in range(MADE_UP_METHODS)]
    with httpx.Client(base_url=site.base_url) as client:
        client.request("BREWXX", "/ping")  # the first one may add the normalised label's series
        before = series(scrape(f"{site.base_url}/metrics"))
        answers = {client.request(method, "/ping").status_code for method in methods}
        after = scrape(f"{site.base_url}/metrics")
    assert answers == {405}, "gunicorn passed them to Django"
    assert series(after) == before, "100 made-up methods, no new series"
    methods_seen = {dict(labels)["method"] for _, labels in series(after)}
    assert methods_seen <= HTTP_METHODS | {INVALID_METHOD}


def test_boom_is_off_by_default(site: RunningServer) -> None:
    assert httpx.get(f"{site.base_url}/boom/").status_code == 404
