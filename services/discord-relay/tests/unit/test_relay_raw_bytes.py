"""Raw bytes where a webhook has text: invalid UTF-8 in bodies, any byte in headers (issue 15).

The regression: a lone surrogate sent as its raw encoded bytes (ED A0 80) rather than as the
escape \\ud800 passed Python's JSON reader and broke the relay later (a 500 while hashing or
measuring). JSON between systems is UTF-8, so a body that is not valid UTF-8, whichever bytes
break it, is now a 422 saying where; the escaped form stays valid JSON and is repaired (U+FFFD).
The fuzzers are seeded (derandomized) and bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from discord_relay.app import create_app
from discord_relay.config import Settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit.alertmanager import webhook_alert, webhook_payload

JSON_HEADERS = {"Content-Type": "application/json"}
DOCUMENTED = {200, 401, 413, 415, 422, 503}
TOKEN = "raw-bytes-token"
# Sequences no UTF-8 decoder accepts: encoded surrogates (the regression), overlong forms, bytes
# that never occur, a sequence cut short, a code point past U+10FFFF.
INVALID_UTF8 = [
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xed\xa0\xbd\xed\xb8\x80",
    b"\xc0\x80",
    b"\xe0\x80\xaf",
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xe2\x82",
    b"\xf4\x90\x80\x80",
]
FIELDS = ["receiver", "alertname", "label name", "summary", "groupKey", "startsAt"]


@pytest.fixture(scope="module")
def client(no_relay_settings_for_the_module: None) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def body_with(raw: bytes, field: str) -> bytes:
    """A valid notification with `raw` spliced, unescaped, into the text of `field`."""
    marker = "MARKER"
    labels = {"severity": "page"}
    annotations = {"summary": "s"}
    payload = webhook_payload([webhook_alert("A", labels=labels, annotations=annotations)])
    alert = payload["alerts"][0]
    if field == "receiver":
        payload["receiver"] = marker
    elif field == "alertname":
        alert["labels"]["alertname"] = marker
    elif field == "label name":
        alert["labels"][marker] = "x"
    elif field == "summary":
        alert["annotations"]["summary"] = marker
    else:
        (payload if field == "groupKey" else alert)[field] = marker
    encoded = json.dumps(payload).encode()
    assert encoded.count(marker.encode()) == 1
    return encoded.replace(marker.encode(), b"x" + raw + b"y")


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("raw", INVALID_UTF8, ids=lambda raw: raw.hex(" "))
def test_invalid_utf8_anywhere_in_a_body_is_a_422_saying_where(
    client: TestClient, raw: bytes, field: str
) -> None:
    body = body_with(raw, field)
    response = client.post("/alertmanager", content=body, headers=JSON_HEADERS)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "not UTF-8" in error
    assert f"at byte {body.index(raw)}" in error


@pytest.mark.parametrize("field", FIELDS)
def test_the_escaped_lone_surrogate_is_valid_json_and_is_relayed(
    client: TestClient, field: str
) -> None:
    response = client.post("/grafana", content=body_with(b"\\ud800", field), headers=JSON_HEADERS)
    assert response.status_code == 200, response.text


def test_a_byte_order_mark_is_ignored_as_json_allows(client: TestClient) -> None:
    body = b"\xef\xbb\xbf" + json.dumps(webhook_payload([webhook_alert("A")])).encode()
    response = client.post("/alertmanager", content=body, headers=JSON_HEADERS)
    assert response.status_code == 200, response.text


FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(
    raw=st.sampled_from(INVALID_UTF8) | st.binary(min_size=1, max_size=6),
    field=st.sampled_from(FIELDS),
    path=st.sampled_from(["/alertmanager", "/grafana"]),
)
def test_any_bytes_in_a_field_get_200_or_a_422_and_never_break_the_relay(
    client: TestClient, raw: bytes, field: str, path: str
) -> None:
    body = body_with(raw, field)
    response = client.post(path, content=body, headers=JSON_HEADERS)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        assert response.status_code == 422, response.text
        assert "not UTF-8" in response.json()["error"]
        return
    try:
        json.loads(text)
    except ValueError:  # the bytes broke the JSON itself (a quote, a control character)
        assert response.status_code == 422, response.text
    else:
        # Valid JSON: the relay may still refuse the shape (a startsAt is any text, fine).
        assert response.status_code in (200, 422), response.text


# Header values as bytes on the wire: HTTP allows any octet but controls; Starlette reads them
# as Latin-1, so every byte must come through without a 5xx.
HEADER_BYTES = st.binary(max_size=40).map(
    lambda raw: bytes(byte for byte in raw if byte >= 0x20 and byte != 0x7F)
)


@pytest.fixture(scope="module")
def guarded(no_relay_settings_for_the_module: None) -> Iterator[TestClient]:
    app = create_app(Settings(RELAY_AUTH_TOKEN=TOKEN))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@FUZZ
@given(
    authorization=HEADER_BYTES,
    content_type=HEADER_BYTES | st.just(b"application/json; charset=\xff\xfe"),
    other=HEADER_BYTES,
)
def test_any_bytes_in_headers_get_a_documented_answer(
    guarded: TestClient, authorization: bytes, content_type: bytes, other: bytes
) -> None:
    headers = {
        "Authorization": b"Bearer " + authorization,
        "Content-Type": content_type,
        "X-Anything": other,
    }
    body = json.dumps(webhook_payload([webhook_alert("A")])).encode()
    response = guarded.post("/alertmanager", content=body, headers=headers)
    assert response.status_code in DOCUMENTED, response.text
    assert response.status_code == 401, "no guess at the token is right"
    assert response.json()["error"]


@FUZZ
@given(content_type=HEADER_BYTES, other=HEADER_BYTES)
def test_any_content_type_bytes_get_200_or_415(
    guarded: TestClient, content_type: bytes, other: bytes
) -> None:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": b"application/json" + content_type,
        "X-Anything": other,
    }
    body = json.dumps(webhook_payload([webhook_alert("A")])).encode()
    response = guarded.post("/alertmanager", content=body, headers=headers)
    media_type = (b"application/json" + content_type).split(b";", 1)[0].strip().lower()
    expected = 200 if media_type == b"application/json" else 415
    assert response.status_code == expected, response.text
