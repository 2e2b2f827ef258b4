"""Property tests over the inbound API: whatever arrives, the answer is a documented status,
never a 5xx other than 503, and a valid notification is always relayed whole."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import fdc_logging
import pytest
from discord_relay.app import create_app
from discord_relay.config import Settings
from discord_relay.inbound import Rejected, decode_notification, parse_json, parse_model
from discord_relay.markdown import escape
from discord_relay.payloads import AlertmanagerNotification, GrafanaNotification
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from testkit.alertmanager import webhook_alert, webhook_payload
from testkit.discord import validate_message
from testkit.logs import json_lines, with_field

TOKEN = "property-token"
LIMIT = 32 * 1024
DOCUMENTED = {200, 401, 413, 415, 422, 503}
COMMON = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class GivenSettings(Settings):
    """Settings from the arguments alone. This module's client is built before the autouse
    fixture clears the shell's settings: a developer's DISCORD_WEBHOOK_URL must not turn the
    fuzzing into posts to a real Discord."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        **others: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


RELAY_SETTINGS = GivenSettings(RELAY_AUTH_TOKEN=TOKEN, RELAY_MAX_BODY_BYTES=str(LIMIT))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(RELAY_SETTINGS), raise_server_exceptions=False) as client:
        yield client


# Any character, often a lone UTF-16 surrogate: JSON carries those as escapes such as \ud800.
CHARS = st.characters() | st.characters(categories=["Cs"])
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(CHARS, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(CHARS, max_size=12), inner, max_size=4)
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
TEXT = st.text(CHARS, max_size=200) | st.text(alphabet="x", min_size=0, max_size=40_000)
OFFSETS = st.none() | st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
# Any text, and times near both ends of what Python can represent (an offset can push them past).
TIMES = st.text(CHARS, max_size=40) | st.one_of(
    st.datetimes(max_value=datetime(1, 1, 2), timezones=OFFSETS),
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=OFFSETS),
    st.datetimes(timezones=OFFSETS),
).map(datetime.isoformat)
ALERT = st.builds(
    lambda name, status, severity, summary, starts_at, ends_at: webhook_alert(
        name or "x",
        status=status,
        labels={"severity": severity},
        annotations={"summary": summary},
        startsAt=starts_at,
        endsAt=ends_at,
    ),
    st.text(CHARS, max_size=50),
    st.sampled_from(["firing", "resolved"]),
    st.text(CHARS, max_size=30),
    TEXT,
    TIMES,
    TIMES,
)
VALID = st.builds(
    lambda alerts, truncated: webhook_payload(alerts, truncatedAlerts=truncated),
    st.lists(ALERT, max_size=12),
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


def post_to_a_new_relay(path: str, body: bytes) -> tuple[Any, list[dict[str, Any]]]:
    """The answer of a relay of its own, and the Discord messages its log sink wrote. Its own:
    the shared relay would not write again what an earlier, equal example delivered."""
    out = io.StringIO()
    with TestClient(create_app(RELAY_SETTINGS), raise_server_exceptions=False) as client:
        # The relay's handler, pointed at a buffer, at a level that hides every diagnostic:
        # the log sink's lines must come through all the same.
        fdc_logging.configure("ERROR", secrets=[TOKEN], stream=out)
        response = post(client, path, body, AUTH)
    return response, with_field(json_lines(out.getvalue()), "discord_message")


def as_relayed(text: str) -> str:
    """`text` after its JSON round trip: each lone surrogate becomes U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@settings(COMMON, max_examples=100)
@given(path=PATHS, body=VALID)
def test_a_valid_notification_is_relayed_whole_or_refused_only_for_size(
    path: str, body: dict
) -> None:
    encoded = json.dumps(body).encode()
    response, messages = post_to_a_new_relay(path, encoded)
    if len(encoded) > LIMIT:
        assert response.status_code == 413
        assert messages == []
        return
    assert response.status_code == 200
    assert response.json()["sent"] == response.json()["messages"] == len(messages) >= 1
    for message in messages:
        assert validate_message(message) == {}, json.dumps(message)[:500]
    titles = [embed["title"] for message in messages for embed in message.get("embeds", [])]
    assert titles == [
        f"[{alert['status'].upper()}] {escape(as_relayed(alert['labels']['alertname']))}"
        for alert in body["alerts"]
    ], "every alert exactly once, in order"


MODELS = st.sampled_from([AlertmanagerNotification, GrafanaNotification])
# Printable ASCII only: bodies the one-pass reader takes (any other character makes the
# relay use the careful reader alone).
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
PLAIN_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(PRINTABLE, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(PRINTABLE, max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
PLAIN_NEAR_MISS = st.builds(
    lambda key, value, where: _put(webhook_payload([webhook_alert("A")]), key, value, where),
    st.sampled_from(KEYS),
    PLAIN_JSON,
    st.booleans(),
)


def _read_both(raw: bytes, model: type[AlertmanagerNotification]) -> tuple[str, str]:
    """What the careful reader and decode_notification make of `raw`: a model's repr (so 1 and
    1.0 differ) or the status it is refused with."""
    try:
        careful = repr(parse_model(parse_json(raw), model, "a notification"))
    except Rejected as exc:
        careful = str(exc.status)
    try:
        fast = repr(decode_notification(raw, model, "a notification"))
    except Rejected as exc:
        fast = str(exc.status)
    return fast, careful


@COMMON
@given(
    model=MODELS,
    body=JSON | NEAR_MISS | VALID | PLAIN_JSON | PLAIN_NEAR_MISS,
    ascii_only=st.booleans(),
)
def test_the_one_pass_reader_takes_a_body_as_the_careful_reader_does(
    model: type[AlertmanagerNotification], body: Any, ascii_only: bool
) -> None:
    # decode_notification reads plain bodies with pydantic-core in one pass (the relay's
    # latency): it must accept, refuse and read exactly what the careful reader does.
    raw = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    fast, careful = _read_both(raw, model)
    assert fast == careful


_ALERT = b'{"status":"firing","labels":{"alertname":"A"}}'


@pytest.mark.parametrize(
    "raw",
    [
        # What json.dumps never writes, so the property above cannot reach it.
        b'{"status":"firing","status":"resolved","alerts":[]}',  # a key twice
        b' \t\r\n{ "status" : "firing" , "alerts" : [ ] } \n',  # whitespace anywhere
        b'{"status":"firing","alerts":[]} x',  # trailing data
        b'{"status":"firing","alerts":[]}{}',
        b'{"status":"fir\x01ing","alerts":[]}',  # a raw control character in a string
        b'{"status":"firing","alerts":[],"truncatedAlerts":' + b"9" * 5000 + b"}",
        b'{"status":"firing","alerts":[],"truncatedAlerts":1e400}',
        b'{"status":"firing","alerts":[],"truncatedAlerts":7.0}',
        b'{"status":"firing","alerts":[],"truncatedAlerts":-0}',
        b'{"status":"firing","alerts":[' + _ALERT + b"," + _ALERT + b"]}",
        b'{"status":"firing","alerts":[],"extra":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}',
        b'{"status":"firing","alerts":[],"extra":' + b"[" * 3000 + b"]" * 3000 + b"}",
        b'{"status":"firing","alerts":[],}',  # a trailing comma
        b"{'status':'firing','alerts':[]}",  # single quotes
        b'{"status":"firing","alerts":[],"values":{"a":1}}',
    ],
)
@pytest.mark.parametrize("model", [AlertmanagerNotification, GrafanaNotification])
def test_bodies_json_dumps_never_writes_are_read_alike(
    raw: bytes, model: type[AlertmanagerNotification]
) -> None:
    fast, careful = _read_both(raw, model)
    assert fast == careful
