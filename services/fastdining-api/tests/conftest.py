"""Fixtures for the FastDining API tests: a fresh app (own metrics registry) per test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from fastdining_api.app import create_app
from fastdining_api.config import Settings


@pytest.fixture
def settings() -> Settings:
    # Explicit values win over any FASTDINING_* variables in the developer's shell.
    return Settings(metrics_enabled=True, metrics_path="/metrics", boom_enabled=True)


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), raise_server_exceptions=False)
