"""Settings: where the webhook URL comes from, and clear failures that never show a secret."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from discord_relay.app import build_sink
from discord_relay.config import Settings
from discord_relay.metrics import RelayMetrics
from pydantic import ValidationError

URL = "https://discord.com/api/webhooks/123456789012345678/AbC-dEf_gHi.jkl"


def sink_kind(settings: Settings) -> str:
    """Which sink the app builds from `settings` (closed at once: only its kind matters here)."""
    sink = build_sink(settings, RelayMetrics())
    asyncio.run(sink.aclose())
    return sink.kind


def test_without_a_webhook_the_relay_uses_the_log_sink() -> None:
    settings = Settings()
    assert sink_kind(settings) == "log"
    assert settings.discord_webhook_url is None


def test_the_webhook_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", URL)
    settings = Settings()
    assert sink_kind(settings) == "discord"
    assert settings.discord_webhook_url is not None
    assert settings.discord_webhook_url.get_secret_value() == URL
    assert URL not in repr(settings)


def test_the_seeds_variable_name_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_WEBHOOK", URL)
    assert sink_kind(Settings()) == "discord"


def test_the_webhook_url_can_come_from_a_mounted_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "webhook-url"
    secret.write_text(URL + "\n")
    monkeypatch.setenv("DISCORD_WEBHOOK_URL_FILE", str(secret))
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    monkeypatch.setenv("RELAY_AUTH_TOKEN_FILE", str(token))
    settings = Settings()
    assert settings.discord_webhook_url is not None
    assert settings.discord_webhook_url.get_secret_value() == URL
    assert settings.auth_token is not None
    assert settings.auth_token.get_secret_value() == "s3cret-token"
    assert set(settings.secrets()) == {URL, "AbC-dEf_gHi.jkl", "s3cret-token"}


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DISCORD_WEBHOOK_URL": "discord.com/api/webhooks/1/secret-part"}, "not an http(s) URL"),
        ({"DISCORD_WEBHOOK_URL": "https://discord.com/secret-part"}, "/api/webhooks/<id>/<token>"),
        ({"DISCORD_WEBHOOK_URL_FILE": "/nonexistent/webhook-url"}, "cannot read"),
        ({"DISCORD_WEBHOOK_URL": URL, "DISCORD_WEBHOOK_URL_FILE": "/x"}, "only one of"),
        ({"BOT_NAME": "Discord Alerts"}, "must not contain 'discord'"),
        ({"BOT_NAME": "n" * 81}, "1 to 80 characters"),
        ({"RELAY_DELIVERY_BUDGET_SECONDS": "0"}, "RELAY_DELIVERY_BUDGET_SECONDS"),
        ({"BOT_AVATAR_URL": "ftp://x/y.png"}, "BOT_AVATAR_URL"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_problem_but_not_the_secret(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as failure:
        Settings()
    text = str(failure.value)
    assert message in text
    assert "secret-part" not in text


def test_without_a_token_the_relay_refuses_to_start_unless_told_so_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RELAY_ALLOW_UNAUTHENTICATED")
    with pytest.raises(ValidationError) as failure:
        Settings()
    assert "RELAY_ALLOW_UNAUTHENTICATED=true" in str(failure.value)
    assert "RELAY_AUTH_TOKEN_FILE" in str(failure.value)
    assert Settings(RELAY_AUTH_TOKEN="t0ken").auth_token is not None
    monkeypatch.setenv("RELAY_ALLOW_UNAUTHENTICATED", "false")
    with pytest.raises(ValidationError, match="no bearer token"):
        Settings()
    monkeypatch.setenv("RELAY_ALLOW_UNAUTHENTICATED", "true")
    assert Settings().auth_token is None


def test_an_empty_secret_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    monkeypatch.setenv("DISCORD_WEBHOOK_URL_FILE", str(tmp_path / "empty"))
    with pytest.raises(ValidationError, match="is empty"):
        Settings()
