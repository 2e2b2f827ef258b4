"""Settings: one typed object read once from `FASTDINING_*` environment variables."""

from __future__ import annotations

import re
from http import HTTPMethod
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Upper bounds (seconds) of `http_request_duration_seconds`. Not a setting on purpose: the SLO
# presets alert on 0.5 s and 1.5 s, which only works while those are bucket boundaries. A test
# keeps this equal to the operator's exporter catalogue (sloalert.exporters).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0,
)  # fmt: skip


# Paths whose requests the request metrics leave out: the charts' kubelet probes and the
# Prometheus scrape. The one place this default lives; a test fails when the charts probe a
# path that is not in it (tests/integration/test_fastdining_probes.py).
EXCLUDED_PATHS: tuple[str, ...] = ("/healthz", "/metrics")
# An HTTP method outside HTTP's own (RFC 9110 and PATCH, as the standard library lists them) is
# recorded as OTHER_METHOD: a label taken from the request must come from a closed set, or
# anyone can add series at will.
HTTP_METHODS: frozenset[str] = frozenset(method.value for method in HTTPMethod)
OTHER_METHOD = "other"
_PATH = r"^/[A-Za-z0-9_\-/.]*$"


class Settings(BaseSettings):
    """FastDining API settings; every field has a default, so an empty environment works."""

    model_config = SettingsConfigDict(env_prefix="FASTDINING_", extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address `python -m fastdining_api` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `python -m fastdining_api` binds to.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="uvicorn log level for `python -m fastdining_api`."
    )
    metrics_enabled: bool = Field(
        True, description="Instrument requests and serve Prometheus metrics at `metrics_path`."
    )
    metrics_path: str = Field(
        "/metrics",
        pattern=r"^/[A-Za-z0-9_\-/]*$",
        description="Path of the Prometheus endpoint; its own requests are not counted.",
    )
    metrics_excluded_paths: Annotated[tuple[str, ...], NoDecode] = Field(
        EXCLUDED_PATHS,
        description="Comma-separated paths left out of the request metrics (probes, scrapes).",
    )
    boom_enabled: bool = Field(
        False, description="Serve GET /boom, an intentional 500 for demos (off unless asked)."
    )

    @field_validator("metrics_excluded_paths", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(path.strip() for path in value.split(",") if path.strip())
        return value

    @field_validator("metrics_excluded_paths")
    @classmethod
    def _check_paths(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        bad = [path for path in paths if not re.match(_PATH, path)]
        if bad:
            raise ValueError(f"not a path (expected /segment/...): {', '.join(bad)}")
        return paths


class SettingsError(ValueError):
    """The environment holds a value a setting cannot take; the message names the variable."""


def load_settings() -> Settings:
    """Settings from the environment, failing with every bad `FASTDINING_*` variable named."""
    try:
        return Settings()
    except ValidationError as error:
        prefix = Settings.model_config.get("env_prefix", "")
        problems = "; ".join(
            f"{prefix}{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
