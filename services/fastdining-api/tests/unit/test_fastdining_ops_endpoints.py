"""/ping, /healthz, /boom and unknown paths, through the real app in-process."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fastdining_api.app import create_app
from fastdining_api.config import Settings


def test_ping_answers_pong(client: TestClient):
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.text == "pong"


def test_healthz_reports_ok(client: TestClient):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_boom_fails_on_purpose_with_500(client: TestClient):
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "intentional"}


def test_an_unknown_path_is_404(client: TestClient):
    assert client.get("/no-such-page").status_code == 404


def test_only_get_is_routed(client: TestClient):
    assert client.post("/ping").status_code == 405


def test_boom_is_off_unless_the_settings_ask_for_it():
    client = TestClient(create_app(Settings(metrics_enabled=False)))
    assert client.get("/boom").status_code == 404
    assert "/boom" not in client.get("/openapi.json").json()["paths"]
