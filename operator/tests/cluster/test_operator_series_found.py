"""SeriesFound on a real API server, asked of a real Prometheus scraping the real FastAPI app.

The SLOAlert comes first and the app later: SeriesFound says False with the reason while
Prometheus has no such series, and True once the app runs and is scraped. Ready is never
touched. A Prometheus that is down gives Unknown, never False; without a Prometheus URL there
is no SeriesFound at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType
from sloalert import conventions
from testkit import apiserver
from testkit.apps import run_fastapi
from testkit.kube import wait_for
from testkit.processes import LOOPBACK, free_port
from testkit.prometheus import RunningPrometheus, ScrapeJob, run_prometheus
from testkit.scrape import scrape, total
from testkit.sloalert_cluster import SLOAlert, condition

from cluster.conftest import InProcessOperator

pytestmark = [pytest.mark.apiserver, pytest.mark.integration]

NAME = "fastapi-availability"
JOB = "fastapi"
# Short, so that the later series are seen within a test's patience (defaults: 30s and 5m).
CHECK_SETTINGS = {"SLOALERT_SERIES_CHECK_DELAY": "0s", "SLOALERT_SERIES_CHECK_PERIOD": "2s"}
# The app's first request, its scrape (every second) and the next check (every 2 s).
SERIES_SEEN_TIMEOUT = 45.0


@pytest.fixture(scope="module")
def fastapi_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def prometheus(
    fastapi_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPrometheus]:
    """Scraping the port the app will listen on: nothing there until a test starts it."""
    jobs = [ScrapeJob(JOB, [f"{LOOPBACK}:{fastapi_port}"])]
    with run_prometheus(tmp_path_factory.mktemp("prometheus"), jobs) as prom:
        yield prom


def checking_operator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, url: str
) -> InProcessOperator:
    monkeypatch.setenv("SLOALERT_PROMETHEUS_URL", url)
    for key, value in CHECK_SETTINGS.items():
        monkeypatch.setenv(key, value)
    return request.getfixturevalue("operator")


def sloalert(namespace: str, job: str = JOB) -> Any:
    return SLOAlert(
        apiVersion=conventions.API_VERSION,
        kind=conventions.KIND,
        metadata={"name": NAME, "namespace": namespace},
        spec={
            "service": "fastapi",
            "indicator": {"preset": {"name": "fastapi-availability", "job": job}},
            "objective": 99.9,
        },
    )


def conditions_of(kube: Client, namespace: str) -> dict[str, dict[str, Any]]:
    found = kube.get(SLOAlert, NAME, namespace=namespace)
    return {kind: dict(condition(found, kind) or {}) for kind in ("Ready", "SeriesFound")}


def series_found(kube: Client, namespace: str, status: str, says: str = "") -> Any | None:
    seen = conditions_of(kube, namespace)["SeriesFound"]
    return seen if seen.get("status") == status and says in seen.get("message", "") else None


def warned(caplog: pytest.LogCaptureFixture, namespace: str) -> list[str]:
    said = f"SLOAlert {namespace}/{NAME}: spec.indicator"
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith(said)
    ]


def no_series_events(
    cluster: apiserver.Cluster, kube: Client, namespace: str, caplog: pytest.LogCaptureFixture
) -> int:
    """Warning Events with reason NoSeries about the SLOAlert. The local server has no Events
    API: there, kopf's log of each refused post names the Event it asked for."""
    if cluster.local:
        return sum(
            "Failed to post an event" in r.getMessage()
            and "type='Warning', reason='NoSeries'" in r.getMessage()
            for r in caplog.records
        )
    about = {"involvedObject.name": NAME, "involvedObject.kind": conventions.KIND}
    return sum(
        event.type == "Warning" and event.reason == "NoSeries"
        for event in kube.list(Event, namespace=namespace, fields=about)
    )


def test_series_found_follows_the_series_and_never_touches_ready(
    request: pytest.FixtureRequest,
    cluster: apiserver.Cluster,
    monkeypatch: pytest.MonkeyPatch,
    kube: Client,
    namespace: str,
    prometheus: RunningPrometheus,
    fastapi_port: int,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    operator = checking_operator(request, monkeypatch, prometheus.base_url)
    kube.create(sloalert(namespace))

    dead = wait_for(
        lambda: series_found(kube, namespace, "False"), what="SeriesFound=False", timeout=30
    )
    assert dead["reason"] == "NoSeries"
    assert dead["message"] == "spec.indicator.preset: no series named http_requests_total"
    ready = conditions_of(kube, namespace)["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "RulesApplied")
    assert warned(caplog, namespace) == [f"SLOAlert {namespace}/{NAME}: {dead['message']}"]
    wait_for(
        lambda: no_series_events(cluster, kube, namespace, caplog) == 1,
        what="a NoSeries warning Event",
    )

    with run_fastapi(tmp_path, port=fastapi_port) as app:
        httpx.get(f"{app.base_url}/ping", timeout=10)
        found = wait_for(
            lambda: series_found(kube, namespace, "True"),
            what="SeriesFound=True once the app is scraped",
            timeout=SERIES_SEEN_TIMEOUT,
        )
        assert found["reason"] == "AllSeriesFound"
        assert conditions_of(kube, namespace)["Ready"] == ready
        metrics = scrape(operator.metrics_url)
        assert total(metrics, "sloalert_sloalerts_series_found", {"status": "True"}) == 1
        assert total(metrics, "sloalert_sloalerts_series_found", {"status": "False"}) == 0
        assert total(metrics, "sloalert_series_check_requests_total") > 0

        # A spec change is checked again: here, a job no target is scraped as.
        kube.patch(
            SLOAlert,
            NAME,
            {"spec": {"indicator": {"preset": {"job": "fdc-fastdining-api"}}}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
        wrong = wait_for(
            lambda: series_found(kube, namespace, "False", "fdc-fastdining-api"),
            what="SeriesFound=False for the new job",
            timeout=30,
        )
        assert wrong["message"] == (
            "spec.indicator.preset: http_requests_total exists, but none with "
            'job="fdc-fastdining-api"; no target of that job exports it'
        )
        assert len(warned(caplog, namespace)) == 2  # one per transition to False
        wait_for(
            lambda: no_series_events(cluster, kube, namespace, caplog) == 2,
            what="a second NoSeries warning Event",
        )
        assert conditions_of(kube, namespace)["Ready"]["status"] == "True"


def test_prometheus_down_gives_unknown_never_false(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    kube: Client,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    operator = checking_operator(request, monkeypatch, url)
    kube.create(sloalert(namespace))

    unknown = wait_for(
        lambda: series_found(kube, namespace, "Unknown"), what="SeriesFound=Unknown", timeout=30
    )
    assert unknown["reason"] == "PrometheusUnreachable"
    assert unknown["message"].startswith(f"Prometheus at {url}")
    # Several checks later (every 2 s), still Unknown, and nothing was called dead.
    wait_for(
        lambda: total(scrape(operator.metrics_url), "sloalert_series_check_requests_total") >= 3,
        what="three checks",
        timeout=30,
    )
    assert series_found(kube, namespace, "Unknown")
    assert warned(caplog, namespace) == []
    assert conditions_of(kube, namespace)["Ready"]["status"] == "True"


def test_without_a_prometheus_url_there_is_no_series_condition(
    cluster: apiserver.Cluster, kube: Client, namespace: str, operator: InProcessOperator
) -> None:
    kube.create(sloalert(namespace))
    wait_for(lambda: conditions_of(kube, namespace)["Ready"].get("status") == "True", what="Ready")
    assert conditions_of(kube, namespace)["SeriesFound"] == {}
    metrics = scrape(operator.metrics_url)
    assert total(metrics, "sloalert_series_check_requests_total") == 0


def test_a_grouped_sloalert_over_its_limit_names_the_count_and_keeps_it_in_status(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    kube: Client,
    namespace: str,
    prometheus: RunningPrometheus,
    fastapi_port: int,
    tmp_path: Path,
) -> None:
    """groupBy handler with maxGroups one below the handlers FastAPI served: too many groups,
    named with their count (status.groups holds it too); Ready is untouched."""
    checking_operator(request, monkeypatch, prometheus.base_url)
    with run_fastapi(tmp_path, port=fastapi_port) as app:
        for page in ("/ping", "/recommendations"):
            httpx.get(f"{app.base_url}{page}", timeout=10)
        handlers = wait_for(
            lambda: (
                (
                    found := {
                        s["handler"]
                        for s in prometheus.series(f'http_requests_total{{job="{JOB}"}}')
                    }
                )
                and len(found) >= 2
                and found
            ),
            what="two handlers scraped",
            timeout=SERIES_SEEN_TIMEOUT,
        )
        grouped = sloalert(namespace)
        grouped["spec"]["indicator"] = {
            "ratio": {
                "errors": f'http_requests_total{{job="{JOB}",status="5xx"}}',
                "total": f'http_requests_total{{job="{JOB}"}}',
            },
            "groupBy": ["handler"],
            "maxGroups": len(handlers) - 1,
        }
        kube.create(grouped)
        over = wait_for(
            lambda: series_found(kube, namespace, "False", "groups by handler"),
            what="SeriesFound=False for too many groups",
            timeout=SERIES_SEEN_TIMEOUT,
        )
        assert over["message"] == (
            f"spec.indicator.groupBy: the series have {len(handlers)} groups by handler, more "
            f"than maxGroups ({len(handlers) - 1}): group by labels with a small, fixed set of "
            "values, or raise spec.indicator.maxGroups"
        )
        assert kube.get(SLOAlert, NAME, namespace=namespace).status["groups"] == len(handlers)
        assert conditions_of(kube, namespace)["Ready"]["status"] == "True"
