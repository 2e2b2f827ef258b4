"""The real thing: migrate and seed a SQLite file, serve it with gunicorn, drive traffic, scrape.

The scrape must carry every family the alert rules and presets use (sloalert.exporters), with
exactly the catalogue's labels and buckets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from sloalert.exporters import (
    DJANGO_DB_LATENCY,
    DJANGO_FAMILIES,
    DJANGO_LATENCY,
    DJANGO_METRICS_VIEW,
    DJANGO_RESPONSES,
)
from testkit.airestaurant_server import (
    airestaurant_env,
    gunicorn_refusal,
    prepare_database,
    serve_airestaurant,
)
from testkit.logs import json_lines
from testkit.processes import RunningServer, free_port
from testkit.scrape import assert_family, samples_named, scrape, total

pytestmark = pytest.mark.integration

# How many of each request the traffic test sends; distinct counts catch mixed-up labels.
PINGS, LISTS, DETAILS, MISSING_RESTAURANTS, UNKNOWN_ROUTES, BOOMS, BAD_FILTERS = 5, 4, 3, 3, 2, 6, 1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("airestaurant")
    env = airestaurant_env(data_dir, free_port(), AIRESTAURANT_BOOM_ENABLED="true")
    prepare_database(env)
    with serve_airestaurant(env, data_dir / "gunicorn.log") as running:
        yield running


def responses(families: dict[str, Metric], **labels: str) -> float:
    return total(families, DJANGO_RESPONSES.name, labels)


def drive_traffic(http: httpx.Client) -> None:
    """Each kind of request the SLOs care about; every status is checked as it comes back."""
    for _ in range(PINGS):
        assert http.get("/ping").status_code == 200
    listing = http.get("/restaurants/?cuisine=korean")
    assert listing.status_code == 200
    for _ in range(LISTS - 1):
        assert http.get("/restaurants/?min_rating=4.0").status_code == 200
    first_id = listing.json()["results"][0]["id"]
    for _ in range(DETAILS):
        assert http.get(f"/restaurants/{first_id}/").status_code == 200
    for _ in range(MISSING_RESTAURANTS):
        assert http.get("/restaurants/99999999/").status_code == 404
    for _ in range(UNKNOWN_ROUTES):
        assert http.get("/no/such/page").status_code == 404
    for _ in range(BOOMS):
        assert http.get("/boom/").status_code == 500
    for _ in range(BAD_FILTERS):
        assert http.get("/restaurants/?cuisine=klingon").status_code == 400
    assert http.get("/healthz").status_code == 200


def test_the_scrape_matches_the_catalogue_after_real_traffic(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        before = scrape(f"{server.base_url}/metrics")
        drive_traffic(http)
    after = scrape(f"{server.base_url}/metrics")

    for family in DJANGO_FAMILIES:
        assert_family(after, family)

    def grew(**labels: str) -> float:
        return responses(after, method="GET", **labels) - responses(before, method="GET", **labels)

    # Exact status codes, not classes: the error-rate rules match status=~"5..".
    assert grew(status="200", view="ping") == PINGS
    assert grew(status="200", view="restaurants:list") == LISTS
    assert grew(status="200", view="restaurants:detail") == DETAILS
    assert grew(status="404", view="restaurants:detail") == MISSING_RESTAURANTS
    assert grew(status="404", view="<unnamed view>") == UNKNOWN_ROUTES
    assert grew(status="500", view="boom") == BOOMS
    assert grew(status="400", view="restaurants:list") == BAD_FILTERS
    assert grew(status="200", view="healthz") == 0, "a probe is not a request"
    statuses = {s.labels["status"] for s in samples_named(after, DJANGO_RESPONSES.name)}
    assert statuses <= {"200", "400", "404", "500"}

    # The list, the detail view and /healthz ran queries through the instrumented backend.
    db_queries = total(after, DJANGO_DB_LATENCY.count, {"alias": "default", "vendor": "sqlite"})
    assert db_queries - total(before, DJANGO_DB_LATENCY.count) >= LISTS + DETAILS
    boom_latency = total(after, DJANGO_LATENCY.count, {"view": "boom", "method": "GET"})
    assert boom_latency - total(before, DJANGO_LATENCY.count, {"view": "boom"}) == BOOMS


def test_scrapes_are_not_recorded(server: RunningServer) -> None:
    first = scrape(f"{server.base_url}/metrics")
    second = scrape(f"{server.base_url}/metrics")
    labels = {"view": DJANGO_METRICS_VIEW}
    assert responses(first, **labels) == responses(second, **labels) == 0


def test_every_log_line_is_json_and_requests_are_logged(server: RunningServer) -> None:
    assert httpx.get(f"{server.base_url}/boom/", timeout=10).status_code == 500
    records = json_lines(server.log())  # every line in the shared JSON shape
    access = [r["fields"] for r in records if r["logger"] == "gunicorn.access"]
    assert {"method": "GET", "path": "/boom/", "status": 500}.items() <= access[-1].items()
    assert any(
        r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records
    )


def test_metrics_and_access_log_can_be_switched_off(tmp_path: Path) -> None:
    env = airestaurant_env(
        tmp_path,
        free_port(),
        AIRESTAURANT_METRICS_ENABLED="false",
        AIRESTAURANT_ACCESS_LOG="false",
    )
    prepare_database(env)
    with serve_airestaurant(env, tmp_path / "gunicorn.log") as running:
        assert httpx.get(f"{running.base_url}/metrics", timeout=10).status_code == 404
        assert httpx.get(f"{running.base_url}/restaurants/", timeout=10).status_code == 200
        log = running.log()
    assert "Booting worker" in log
    assert "gunicorn.access" not in log


def test_healthz_is_503_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    # A directory where the SQLite file should be: every connection attempt fails.
    database_path = tmp_path / "not-a-file"
    database_path.mkdir()
    env = airestaurant_env(tmp_path, free_port(), DATABASE_URL=f"sqlite:///{database_path}")
    with serve_airestaurant(env, tmp_path / "gunicorn.log") as running:
        response = httpx.get(f"{running.base_url}/healthz", timeout=10)
        assert response.status_code == 503
        assert response.json() == {
            "error": "unavailable",
            "detail": "the database does not answer",
            "database": "error",
        }
        assert httpx.get(f"{running.base_url}/ping", timeout=10).status_code == 200
        log = running.log()
    assert "health check: database query failed" in log
    assert str(database_path) not in log


def test_gunicorn_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = airestaurant_env(tmp_path, free_port())
    code, output = gunicorn_refusal(env, without=("SECRET_KEY",))
    assert code != 0
    assert "SECRET_KEY is not set" in output


def test_gunicorn_refuses_several_workers_without_multiprocess_mode(tmp_path: Path) -> None:
    env = airestaurant_env(tmp_path, free_port(), AIRESTAURANT_WORKERS="2")
    code, output = gunicorn_refusal(env, without=("PROMETHEUS_MULTIPROC_DIR",))
    assert code != 0
    assert "AIRESTAURANT_WORKERS=2 needs PROMETHEUS_MULTIPROC_DIR" in output


def test_several_workers_in_multiprocess_mode_add_up_in_one_scrape(tmp_path: Path) -> None:
    env = airestaurant_env(tmp_path, free_port())
    prepare_database(env)
    # gunicorn's on_starting hook creates (and empties) the directory.
    multiproc_dir = tmp_path / "prometheus"
    multi_env = {**env, "AIRESTAURANT_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir)}
    requests = 40
    with serve_airestaurant(multi_env, tmp_path / "gunicorn.log") as running:
        before = responses(scrape(f"{running.base_url}/metrics"), status="200", view="ping")
        for _ in range(requests):
            # A new connection each time, so the kernel spreads them over both workers.
            assert httpx.get(f"{running.base_url}/ping", timeout=10).status_code == 200
        after = scrape(f"{running.base_url}/metrics")
    assert responses(after, status="200", view="ping") - before == requests
    assert_family(after, DJANGO_LATENCY)
    worker_pids = {path.stem.rsplit("_", 1)[-1] for path in multiproc_dir.glob("counter_*.db")}
    assert len(worker_pids) == 2
