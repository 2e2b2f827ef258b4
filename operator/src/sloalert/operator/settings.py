"""The operator's settings: one typed object, read once from `SLOALERT_*` environment variables."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sloalert import conventions, durations

ENV_PREFIX = "SLOALERT_"

# Kubernetes label syntax: an optional DNS-subdomain prefix, then a name of at most 63 characters.
_LABEL_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
_LABEL_KEY = re.compile(rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")
_LABEL_VALUE = re.compile(rf"^({_LABEL_NAME})?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable and the value."""


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    namespaces: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Namespaces to watch, comma separated; empty watches all."
    )
    rule_labels: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Extra PrometheusRule labels: `release=kps,team=web` or a JSON object.",
    )
    log_format: Literal["json", "text"] = "json"
    # A pod must listen on its own address, not only loopback, for probes and scrapes to reach it.
    listen_host: str = "0.0.0.0"  # noqa: S104
    metrics_port: int = Field(default=8080, ge=1, le=65535)
    health_port: int = Field(default=8081, ge=1, le=65535)
    prometheus_url: str | None = Field(
        default=None,
        description="The Prometheus whose series the SeriesFound check asks about; none: no check.",
    )
    # Durations, given as Prometheus durations ("5m"), kept in seconds.
    series_check_period: float = 300.0
    series_check_delay: float = 30.0

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for namespace in value:
            if not _NAMESPACE.match(namespace):
                raise ValueError(f"{namespace!r} is not a namespace name (RFC 1123 label)")
        return tuple(value)

    @field_validator("rule_labels", mode="before")
    @classmethod
    def _parse_labels(cls, value: Any) -> Any:
        labels = _parse_label_text(value) if isinstance(value, str) else value
        for key, label_value in labels.items():
            _check_label(str(key), str(label_value))
        return labels

    @field_validator("prometheus_url", mode="before")
    @classmethod
    def _check_url(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("series_check_period", "series_check_delay", mode="before")
    @classmethod
    def _parse_duration(cls, value: Any, info: ValidationInfo) -> Any:
        # Checked here, before parsing, so that an error names the value as it was given.
        if isinstance(value, int | float):
            seconds = float(value)  # the defaults
        else:
            try:
                seconds = durations.parse_seconds(str(value).strip())
            except durations.DurationError as exc:
                raise ValueError(str(exc)) from None
        if seconds <= 0 and info.field_name == "series_check_period":
            raise ValueError("the period between checks must be longer than 0")
        return seconds

    @property
    def health_url(self) -> str:
        """kopf's liveness endpoint."""
        return f"http://{self.listen_host}:{self.health_port}/healthz"


def load_settings() -> OperatorSettings:
    """Read the settings from the process environment, naming any bad value."""
    try:
        return OperatorSettings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"][:1])
        lines.append(f"{ENV_PREFIX}{field.upper()}={error.get('input')!r}: {error['msg']}")
    return "invalid operator settings:\n  " + "\n  ".join(lines)


def _parse_label_text(text: str) -> dict[str, str]:
    text = text.strip()
    if text.startswith("{"):
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("a JSON value must be an object of label names to values")
        return {str(key): str(value) for key, value in parsed.items()}
    labels: dict[str, str] = {}
    for pair in (part.strip() for part in text.split(",")):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"{pair!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels


def _check_label(key: str, value: str) -> None:
    if not _LABEL_KEY.match(key):
        raise ValueError(f"{key!r} is not a valid label key")
    if not _LABEL_VALUE.match(value):
        raise ValueError(f"{value!r} (label {key}) is not a valid label value")
    if key == conventions.MANAGED_BY_LABEL:
        raise ValueError(f"{key} is set by the operator itself and cannot be overridden")
