"""Property tests over the inbound API: whatever arrives, the answer is a documented status,
never a 5xx other than 503, and a valid notification is always relayed whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from discord_relay.app import create_app
from discord_relay.config import Settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit.alertmanager import webhook_alert, webhook_payload

TOKEN = "property-token"
LIMIT = 32 * 1024
DOCUMENTED = {200, 401, 413, 415, 422, 503}
COMMON = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    relay = create_app(Settings(RELAY_AUTH_TOKEN=TOKEN, RELAY_MAX_BODY_BYTES=str(LIMIT)))
    with TestClient(relay, raise_server_exceptions=False) as client:
        yield client


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
# Bodies that look like a notification but may break it anywhere: a real key with any value.
KEYS = [
    "status",
    "alerts",
    "labels",
    "annotations",
    "groupKey",
    "truncatedAlerts",
    "values",
    "startsAt",
    "receiver",
    "valueString",
    "title",
    "orgId",
]
NEAR_MISS = st.builds(
    lambda key, value, where: _put(webhook_payload([webhook_alert("A")]), key, value, where),
    st.sampled_from(KEYS),
    JSON,
    st.booleans(),
)
TEXT = st.text(max_size=200) | st.text(alphabet="x", min_size=0, max_size=40_000)
VALID = st.builds(
    lambda names, summary, severity, truncated: webhook_payload(
        [
            webhook_alert(
                name or "x", labels={"severity": severity}, annotations={"summary": summary}
            )
            for name in names
        ],
        truncatedAlerts=truncated,
    ),
    st.lists(st.text(max_size=50), max_size=12),
    TEXT,
    st.text(max_size=30),
    st.integers(min_value=0, max_value=1000),
)


def _put(payload: dict[str, Any], key: str, value: Any, in_alert: bool) -> dict[str, Any]:
    (payload["alerts"][0] if in_alert else payload)[key] = value
    return payload


def post(client: TestClient, path: str, body: bytes, headers: dict[str, str]) -> Any:
    response = client.post(path, content=body, headers=headers)
    assert response.status_code in DOCUMENTED, response.text[:300]
    if response.status_code != 200:
        assert response.json()["error"], "every refusal says why"
    return response


PATHS = st.sampled_from(["/alertmanager", "/grafana"])
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@COMMON
@given(path=PATHS, body=JSON | NEAR_MISS)
def test_any_json_gets_a_documented_answer(client: TestClient, path: str, body: Any) -> None:
    post(client, path, json.dumps(body).encode(), AUTH)


@COMMON
@given(path=PATHS, body=st.binary(max_size=2000))
def test_any_bytes_get_a_documented_answer(client: TestClient, path: str, body: bytes) -> None:
    post(client, path, body, AUTH)


@COMMON
@given(
    path=PATHS,
    body=VALID,
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; x=y"]),
    authorization=st.sampled_from([f"Bearer {TOKEN}", "Bearer nope", "", "Basic x"]),
)
def test_headers_decide_401_and_415_before_the_body_is_read(
    client: TestClient, path: str, body: dict, content_type: str, authorization: str
) -> None:
    headers = {"Authorization": authorization, "Content-Type": content_type}
    response = post(client, path, json.dumps(body).encode(), headers)
    if authorization != f"Bearer {TOKEN}":
        assert response.status_code == 401
    elif not content_type.startswith("application/json"):
        assert response.status_code == 415


@COMMON
@given(path=PATHS, body=VALID)
def test_a_valid_notification_is_relayed_whole_or_refused_only_for_size(
    client: TestClient, path: str, body: dict
) -> None:
    encoded = json.dumps(body).encode()
    response = post(client, path, encoded, AUTH)
    if len(encoded) > LIMIT:
        assert response.status_code == 413
        return
    assert response.status_code == 200
    answer = response.json()
    # Every message is either posted now or was posted by an identical earlier example.
    assert answer["sent"] + answer["already_delivered"] == answer["messages"] >= 1
