"""Settings from FASTDINING_* variables, and the latency buckets the SLO presets rely on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastdining_api.config import LATENCY_BUCKETS, Settings, SettingsError, load_settings
from sloalert.exporters import FASTAPI_LATENCY_BUCKETS


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch):
    for field in Settings.model_fields:
        monkeypatch.delenv(f"FASTDINING_{field.upper()}", raising=False)


def test_the_latency_buckets_are_the_catalogues():
    # The app may not import sloalert at run time, so it keeps its own copy: this pins it.
    assert LATENCY_BUCKETS == FASTAPI_LATENCY_BUCKETS
    assert {0.5, 1.5} <= set(LATENCY_BUCKETS)


def test_defaults_need_no_environment():
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.metrics_enabled is True
    assert settings.metrics_path == "/metrics"
    assert settings.log_level == "info"
    assert settings.metrics_excluded_paths == ("/healthz", "/metrics")
    assert settings.boom_enabled is False


def test_variables_with_the_prefix_are_read(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FASTDINING_PORT", "9001")
    monkeypatch.setenv("FASTDINING_METRICS_ENABLED", "false")
    monkeypatch.setenv("FASTDINING_METRICS_PATH", "/internal/metrics")
    monkeypatch.setenv("FASTDINING_METRICS_EXCLUDED_PATHS", "/livez, /readyz")
    monkeypatch.setenv("FASTDINING_BOOM_ENABLED", "true")
    settings = load_settings()
    assert settings.metrics_excluded_paths == ("/livez", "/readyz")
    assert settings.boom_enabled is True
    assert settings.port == 9001
    assert settings.metrics_enabled is False
    assert settings.metrics_path == "/internal/metrics"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FASTDINING_PORT", "0"),
        ("FASTDINING_PORT", "http"),
        ("FASTDINING_METRICS_ENABLED", "maybe"),
        ("FASTDINING_METRICS_PATH", "metrics"),
        ("FASTDINING_LOG_LEVEL", "loud"),
        ("FASTDINING_METRICS_EXCLUDED_PATHS", "/healthz,readyz"),
        ("FASTDINING_BOOM_ENABLED", "sometimes"),
    ],
)
def test_a_bad_value_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_the_app_imports_no_other_component():
    # Components share data, never code, at run time: the image holds only this package.
    code = (
        "import sys, fastdining_api.app, fastdining_api.__main__; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sloalert', 'testkit'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
