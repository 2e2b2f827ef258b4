"""The pure parts of delivery: how long to back off, and how long Discord asked us to wait."""

from __future__ import annotations

import pytest
from discord_relay.delivery import RetryPolicy, env_proxy, retry_after_seconds
from yarl import URL

POLICY = RetryPolicy(
    max_attempts=5, timeout_seconds=5, backoff_base_seconds=0.5, backoff_max_seconds=4
)


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)])
def test_backoff_doubles_up_to_the_cap_with_jitter_in_its_upper_half(
    attempt: int, ceiling: float
) -> None:
    waits = {POLICY.backoff(attempt) for _ in range(200)}
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    assert len(waits) > 100, "jittered, so concurrent retries spread out"


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (
            b'{"message": "You are being rate limited.", "retry_after": 2.5, "global": false}',
            {},
            2.5,
        ),
        (b'{"retry_after": 0.25}', {"Retry-After": "9"}, 0.25),  # the body is more precise
        (b"<html>cloudflare</html>", {"Retry-After": "3"}, 3.0),
        (b'{"retry_after": "soon"}', {"Retry-After": "7"}, 7.0),
        (b"", {}, 1.0),
        (b'{"retry_after": -1}', {"Retry-After": "NaN"}, 1.0),
        (b'{"retry_after": true}', {}, 1.0),
    ],
)
def test_retry_after_comes_from_the_body_then_the_header_then_a_default(
    body: bytes, headers: dict[str, str], expected: float
) -> None:
    assert retry_after_seconds(body, headers) == expected


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
        ({"https_proxy": "http://proxy.corp:3128", "NO_PROXY": "discord.com"}, None),
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, None),  # for http:// URLs only
        ({"ALL_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
        ({"HTTPS_PROXY": "http://a:1", "ALL_PROXY": "http://b:2"}, "http://a:1"),
    ],
)
def test_the_environment_names_the_proxy_to_discord(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: str | None
) -> None:
    for scheme in ("https", "http", "all", "no"):
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert env_proxy(URL("https://discord.com/api/webhooks/1/token")) == expected
