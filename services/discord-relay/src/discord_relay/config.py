"""The relay's settings: one typed object, read from the environment once at start-up.

Secrets (the Discord webhook URL, the inbound bearer token) come from the environment or from a
file mounted from a Kubernetes Secret (`*_FILE`). They are `SecretStr`, so a repr or a log line of
the settings never shows them, and validation errors never echo the input.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Discord answers 400 for a webhook username containing these words, so we refuse them at start-up.
_FORBIDDEN_USERNAME_WORDS = ("discord", "clyde")
_WEBHOOK_PATH = re.compile(r"^/api/(v\d+/)?webhooks/\d+/[A-Za-z0-9_.-]+/?$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_ignore_empty=True,
        # A malformed webhook URL is a secret all the same: never print it in an error.
        hide_input_in_errors=True,
        extra="ignore",
    )

    discord_webhook_url: SecretStr | None = Field(
        default=None,
        # DISCORD_WEBHOOK is the seed's name, accepted so an old .env keeps working.
        validation_alias=AliasChoices("DISCORD_WEBHOOK_URL", "DISCORD_WEBHOOK"),
    )
    discord_webhook_url_file: Path | None = Field(
        default=None, validation_alias="DISCORD_WEBHOOK_URL_FILE"
    )
    bot_name: str = Field(default="FastDining Alerts", validation_alias="BOT_NAME")
    bot_avatar_url: str | None = Field(
        default=None, validation_alias=AliasChoices("BOT_AVATAR_URL", "BOT_AVATAR")
    )
    auth_token: SecretStr | None = Field(default=None, validation_alias="RELAY_AUTH_TOKEN")
    auth_token_file: Path | None = Field(default=None, validation_alias="RELAY_AUTH_TOKEN_FILE")
    # Fail closed: without a token anyone who reaches the relay posts to Discord, so running
    # without one must be asked for by name (tests and a laptop's log sink mode).
    allow_unauthenticated: bool = Field(
        default=False, validation_alias="RELAY_ALLOW_UNAUTHENTICATED"
    )

    # Where `python -m discord_relay` listens; all interfaces, as a container must.
    host: str = Field(default="0.0.0.0", validation_alias="RELAY_HOST")  # noqa: S104
    port: int = Field(default=8800, ge=1, le=65535, validation_alias="RELAY_PORT")
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, gt=0, validation_alias="RELAY_MAX_BODY_BYTES"
    )
    # The whole Discord delivery of one inbound request must fit in this budget, so the caller
    # (Alertmanager, Grafana) gets an answer well inside its own webhook timeout.
    delivery_budget_seconds: float = Field(
        default=10.0, gt=0, le=60, validation_alias="RELAY_DELIVERY_BUDGET_SECONDS"
    )
    max_attempts: int = Field(default=5, ge=1, le=20, validation_alias="RELAY_MAX_ATTEMPTS")
    discord_timeout_seconds: float = Field(
        default=5.0, gt=0, validation_alias="RELAY_DISCORD_TIMEOUT_SECONDS"
    )
    backoff_base_seconds: float = Field(
        default=0.5, gt=0, validation_alias="RELAY_BACKOFF_BASE_SECONDS"
    )
    backoff_max_seconds: float = Field(
        default=4.0, gt=0, validation_alias="RELAY_BACKOFF_MAX_SECONDS"
    )
    # Shorter than any sensible repeat_interval (a deliberate reminder must go out again), longer
    # than the time Alertmanager or Grafana keep retrying one failed notification.
    dedup_ttl_seconds: float = Field(
        default=900.0, gt=0, validation_alias="RELAY_DEDUP_TTL_SECONDS"
    )
    dedup_max_entries: int = Field(default=10_000, gt=0, validation_alias="RELAY_DEDUP_MAX_ENTRIES")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="RELAY_LOG_LEVEL"
    )

    @model_validator(mode="after")
    def _resolve_files_and_check(self) -> Settings:
        if self.discord_webhook_url is not None and self.discord_webhook_url_file is not None:
            raise ValueError("set only one of DISCORD_WEBHOOK_URL and DISCORD_WEBHOOK_URL_FILE")
        if self.discord_webhook_url_file is not None:
            self.discord_webhook_url = _read_secret_file(
                self.discord_webhook_url_file, "DISCORD_WEBHOOK_URL_FILE"
            )
        if self.auth_token is not None and self.auth_token_file is not None:
            raise ValueError("set only one of RELAY_AUTH_TOKEN and RELAY_AUTH_TOKEN_FILE")
        if self.auth_token_file is not None:
            self.auth_token = _read_secret_file(self.auth_token_file, "RELAY_AUTH_TOKEN_FILE")
        if self.discord_webhook_url is not None:
            _check_webhook_url(self.discord_webhook_url.get_secret_value())
        _check_bot_name(self.bot_name)
        if self.bot_avatar_url is not None and urlsplit(self.bot_avatar_url).scheme not in {
            "http",
            "https",
        }:
            raise ValueError("BOT_AVATAR_URL must be an http(s) URL")
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("RELAY_BACKOFF_MAX_SECONDS must be >= RELAY_BACKOFF_BASE_SECONDS")
        if self.auth_token is None and not self.allow_unauthenticated:
            raise ValueError(
                "no bearer token: set RELAY_AUTH_TOKEN_FILE (a mounted Secret) or "
                "RELAY_AUTH_TOKEN, or RELAY_ALLOW_UNAUTHENTICATED=true to accept requests "
                "from anyone who can reach the relay"
            )
        return self

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        values = []
        if self.discord_webhook_url is not None:
            url = self.discord_webhook_url.get_secret_value()
            # The token part alone is enough to post as the webhook, so redact it on its own too.
            values += [url, url.rstrip("/").rsplit("/", 1)[-1]]
        if self.auth_token is not None:
            values.append(self.auth_token.get_secret_value())
        return [value for value in values if value]


def _read_secret_file(path: Path, variable: str) -> SecretStr:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ValueError(f"{variable}: {path} is empty")
    return SecretStr(value)


def _check_webhook_url(url: str) -> None:
    # The message names what is wrong but never repeats the URL: it holds the webhook's token.
    expected = "expected https://discord.com/api/webhooks/<id>/<token>"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"the Discord webhook URL is not an http(s) URL ({expected})")
    if not _WEBHOOK_PATH.match(parts.path):
        raise ValueError(
            f"the Discord webhook URL has no /api/webhooks/<id>/<token> path ({expected})"
        )


def _check_bot_name(name: str) -> None:
    if not 1 <= len(name.strip()) <= 80:
        raise ValueError("BOT_NAME must be 1 to 80 characters")
    lowered = name.lower()
    for word in _FORBIDDEN_USERNAME_WORDS:
        if word in lowered:
            raise ValueError(f"BOT_NAME must not contain {word!r}: Discord refuses such names")
