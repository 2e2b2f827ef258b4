"""The /metrics endpoint in-process: the catalogue's families, buckets and labels."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fastdining_api.app import create_app
from fastdining_api.config import Settings
from fastdining_api.instrumentation import (
    UNMATCHED_HANDLER,
    AppRegistry,
    RouteNames,
    instrument,
    request_metrics,
)
from sloalert.exporters import (
    FASTAPI_FAMILIES,
    FASTAPI_INPROGRESS,
    FASTAPI_LATENCY,
    FASTAPI_REQUESTS,
    FASTAPI_UNMATCHED_HANDLER,
)
from testkit.scrape import assert_family, parse, samples_named, total


def drive(client: TestClient) -> dict:
    for path in ("/ping", "/ping", "/boom", "/nowhere", "/recommendations?limit=0"):
        client.get(path)
    client.get("/metrics")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def test_every_catalogue_family_is_served_as_catalogued(client: TestClient):
    families = drive(client)
    for family in FASTAPI_FAMILIES:
        assert_family(families, family)


def test_status_is_grouped_and_unmatched_routes_are_none(client: TestClient):
    families = drive(client)
    assert UNMATCHED_HANDLER == FASTAPI_UNMATCHED_HANDLER
    requests = FASTAPI_REQUESTS.name
    assert total(families, requests, {"handler": "/ping", "status": "2xx"}) == 2
    assert total(families, requests, {"handler": "/boom", "status": "5xx"}) == 1
    assert total(families, requests, {"handler": "/recommendations", "status": "4xx"}) == 1
    assert total(families, requests, {"handler": UNMATCHED_HANDLER, "status": "4xx"}) == 1
    statuses = {sample.labels["status"] for sample in samples_named(families, requests)}
    assert statuses == {"2xx", "4xx", "5xx"}


def test_the_metrics_endpoint_does_not_count_itself(client: TestClient):
    families = drive(client)
    handlers = {
        sample.labels["handler"]
        for metric in families.values()
        for sample in metric.samples
        if "handler" in sample.labels
    }
    assert "/metrics" not in handlers
    assert {"/ping", "/boom", UNMATCHED_HANDLER} <= handlers


def test_latency_lands_in_the_configured_buckets(client: TestClient):
    families = drive(client)
    ping = {"handler": "/ping", "method": "GET"}
    assert total(families, FASTAPI_LATENCY.count, ping) == 2
    assert total(families, FASTAPI_LATENCY.bucket, {**ping, "le": "1.5"}) == 2


def test_in_progress_counts_the_running_request():
    app = FastAPI()
    seen: list[float | None] = []

    @app.get("/probe")
    def probe() -> None:
        seen.append(registry.get_sample_value(FASTAPI_INPROGRESS.name, labels))

    labels = {"handler": "/probe", "method": "GET"}
    registry = instrument(app, Settings(metrics_path="/metrics"))
    TestClient(app).get("/probe")
    assert seen == [1.0]
    assert registry.get_sample_value(FASTAPI_INPROGRESS.name, labels) == 0.0


def test_two_apps_in_one_process_each_keep_their_own_metrics():
    clients = [TestClient(create_app(Settings(metrics_enabled=True))) for _ in range(2)]
    clients[0].get("/ping")
    counts = [
        total(parse(c.get("/metrics").text), FASTAPI_REQUESTS.name, {"handler": "/ping"})
        for c in clients
    ]
    assert counts == [1, 0]


def test_with_metrics_disabled_there_is_no_endpoint_and_no_instrumentation():
    app = create_app(Settings(metrics_enabled=False))
    client = TestClient(app)
    assert client.get("/ping").text == "pong"
    assert client.get("/metrics").status_code == 404
    assert app.user_middleware == []


def test_a_custom_metrics_path_moves_the_endpoint():
    client = TestClient(create_app(Settings(metrics_path="/internal/metrics")))
    client.get("/ping")
    assert client.get("/metrics").status_code == 404
    families = parse(client.get("/internal/metrics").text)
    handlers = {s.labels["handler"] for s in samples_named(families, FASTAPI_REQUESTS.name)}
    assert handlers == {"/ping", UNMATCHED_HANDLER}


def test_request_metrics_refuse_to_be_silently_dropped():
    # The seed's failure: a second registration of the same name returned None and was ignored.
    registry = AppRegistry()
    assert len(request_metrics(registry)) == 2
    with pytest.raises(RuntimeError, match="already registered"):
        request_metrics(registry)


def _scope(app: FastAPI, path: str, method: str = "GET") -> dict:
    return {"type": "http", "app": app, "method": method, "path": path, "root_path": ""}


def test_route_names_label_like_the_instrumentator_and_remember_only_matched_paths():
    app = create_app(Settings(boom_enabled=True))
    names = RouteNames(limit=2)

    assert names.handler(_scope(app, "/ping")) == "/ping"
    assert names.handler(_scope(app, "/ping")) == "/ping"
    for n in range(50):
        assert names.handler(_scope(app, f"/scan-{n}")) == UNMATCHED_HANDLER
    assert names.handler(_scope(app, "/boom")) == "/boom"
    assert names.handler(_scope(app, "/healthz")) == "/healthz"  # past the limit: resolved again

    assert len(names._known) == 2


def test_excluded_paths_are_exact_and_configurable():
    app = FastAPI()

    @app.get("/healthz")
    @app.get("/healthz-report")
    @app.get("/livez")
    def probe() -> None:
        return None

    registry = instrument(app, Settings(metrics_excluded_paths="/healthz,/livez"))  # type: ignore[arg-type]
    client = TestClient(app)
    for path in ("/healthz", "/healthz-report", "/livez", "/metrics"):
        client.get(path)
    families = parse(client.get("/metrics").text)
    handlers = {s.labels["handler"] for s in samples_named(families, FASTAPI_REQUESTS.name)}
    assert handlers == {"/healthz-report"}, "only the exact paths, and /metrics always"
    assert registry is not None
