"""Schemathesis against the relay's own OpenAPI spec, in-process (ASGI), log sink mode.

Every operation gets bodies generated from the published schemas, valid ones and (negative mode)
ones that break them; every answer must be no server error, a documented status, of the
documented media type, and conform to the documented response schema; what the schema admits is
relayed (200), what it does not is refused (4xx). Bounded: a fixed number
of examples per operation, derandomized, so CI is deterministic and quick.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from discord_relay.app import create_app
from discord_relay.config import Settings
from fastapi.testclient import TestClient
from testkit.api_fuzzing import CHECKS, bounded

# Defaults only, never the shell's environment (schemathesis starts the app while collecting):
# log sink mode, no token, so a developer's DISCORD_WEBHOOK_URL never receives fuzzed posts.
APP = create_app(Settings.model_construct(allow_unauthenticated=True))


@pytest.fixture(scope="module", autouse=True)
def _started(no_relay_settings_for_the_module: None) -> Iterator[None]:
    """The app's lifespan (settings, sink, relay) runs once; schemathesis then calls the app."""
    with TestClient(APP):
        yield


schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@bounded(max_examples=40)
def test_every_relay_operation_answers_as_its_spec_says(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
