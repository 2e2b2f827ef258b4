from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from discord_relay.app import create_app
from discord_relay.config import Settings
from testkit import discord
from testkit.discord import Standin

# The Discord stand-in, one process per session (testkit's fixtures).
discord_standin_process = discord.discord_standin_process
standin = discord.standin

# Settings that keep retry tests quick; each test overrides what it is about.
FAST_DELIVERY = {
    "RELAY_DELIVERY_BUDGET_SECONDS": "3",
    "RELAY_BACKOFF_BASE_SECONDS": "0.05",
    "RELAY_BACKOFF_MAX_SECONDS": "0.2",
    "RELAY_DISCORD_TIMEOUT_SECONDS": "1",
}


# The relay refuses to start without a bearer token unless told so by name: most tests are
# about something else, so they say it (a test of the refusal or of auth unsets or overrides it).
ALLOW_UNAUTHENTICATED = ("RELAY_ALLOW_UNAUTHENTICATED", "true")


@pytest.fixture(autouse=True)
def _no_relay_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "RELAY_", "BOT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv(*ALLOW_UNAUTHENTICATED)


@pytest.fixture(scope="module")
def no_relay_settings_for_the_module() -> Iterator[None]:
    """The same for a module's own app (fuzzers start theirs once per module): a developer's
    DISCORD_WEBHOOK_URL must never receive fuzzed posts."""
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith(("DISCORD_", "RELAY_", "BOT_")):
                env.delenv(name)
        env.setenv(*ALLOW_UNAUTHENTICATED)
        yield


def _settings(**values: Any) -> Settings:
    return Settings(**{name: str(value) for name, value in values.items()})


@asynccontextmanager
async def _relay_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process, its lifespan run as uvicorn would, and a client to call it."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://relay.test", timeout=30
        ) as client,
    ):
        yield client


@pytest.fixture
def discord_settings(standin: Standin) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        return _settings(
            DISCORD_WEBHOOK_URL=standin.webhook_url(), **{**FAST_DELIVERY, **overrides}
        )

    return build


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """Settings as the environment would give them: `make_settings(RELAY_AUTH_TOKEN="t")`."""
    return _settings


@pytest.fixture
def relay_client() -> Callable[[Settings], AbstractAsyncContextManager[httpx.AsyncClient]]:
    """`async with relay_client(settings) as client`: the app in-process, lifespan included."""
    return _relay_client
