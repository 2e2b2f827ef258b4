"""Checking an inbound webhook request, cheapest check first, each failure a clear 4xx.

Order: bearer token (401), media type (415), size while reading (413), UTF-8 and JSON (422),
shape (422). The size is enforced on the bytes as they arrive, so an oversized body is never held
in memory. Decoding a body (`decode_notification`) is linear in its size. A small plain body is
read in one pass, on the event loop; a large one in a worker thread, giving the interpreter lock
back often (see `_pairs`, `_ALERTS_PER_SLICE`), so the event loop keeps answering probes while
it is read; `collector_paused` and `release` keep the garbage collector and the freeing of a
large notification from stalling it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hmac
import json
import re
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope

ModelT = TypeVar("ModelT", bound=BaseModel)

_SHOWN_ERRORS = 3
# The `errors` list of a 422 is bounded too: a notification of 100,000 bad alerts must not
# become a 10 MB answer.
_LISTED_ERRORS = 100
# Alerts are validated this many at a time: each slice is one call into pydantic-core, which
# holds the interpreter lock throughout (a few milliseconds per slice).
_ALERTS_PER_SLICE = 200
# JSON may escape half a UTF-16 surrogate pair on its own (\ud800); Python keeps it as a code
# point no UTF encoding accepts. Once the body is known to be UTF-8, only such an escape can
# bring one in.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BOM = "\ufeff"
# A notification from a larger body pauses the cyclic garbage collector (see _CollectorPause).
_LARGE_BODY_BYTES = 256 * 1024
# Bodies up to this size are decoded and planned on the event loop, larger ones in a worker
# thread. Nearly every notification is a few kilobytes, for which the hand-offs to a thread and
# back cost more than the work (bench/RESULTS.md). A body of this size (100 minimal alerts are
# 26 KiB) holds the loop about 1 ms, and 6 ms at worst when crafted to need the most escaping
# (measured 2026-12-06 on the 2-core machine; 64 KiB held it up to 12 ms): far below what a
# /healthz probe notices, so a fixed threshold rather than one more setting.
INLINE_BODY_BYTES = 32 * 1024


class Rejected(Exception):
    """The request is refused; `reason` says why, in words a sender's operator can act on."""

    def __init__(
        self,
        status: int,
        reason: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.errors = errors
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.reason}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def header(scope: Scope, name: bytes) -> str:
    """The first value of header `name` (lower case, as ASGI servers give names), or ""."""
    value: bytes
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def check_bearer(authorization: str, token: SecretStr | None) -> None:
    if token is None:
        return
    scheme, _, credentials = authorization.partition(" ")
    expected = token.get_secret_value().encode()
    # compare_digest: the time taken must not tell how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), expected
    ):
        raise Rejected(
            401,
            "missing or wrong bearer token (send 'Authorization: Bearer <RELAY_AUTH_TOKEN>')",
            headers={"WWW-Authenticate": "Bearer"},
        )


def check_json_media_type(content_type: str) -> None:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Rejected(
            415, f"Content-Type must be application/json, not {media_type or 'missing'!r}"
        )


async def read_limited(receive: Receive, declared_length: str, limit: int) -> bytes:
    """The request's body, refused (413) as soon as it is known to exceed `limit` bytes."""
    too_large = Rejected(413, f"the body is larger than the limit of {limit} bytes")
    if declared_length.isdecimal() and int(declared_length) > limit:
        raise too_large
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        body += message.get("body", b"")
        if len(body) > limit:
            raise too_large
        if not message.get("more_body", False):
            return bytes(body)


def decode_notification(body: bytes, model: type[ModelT], what: str) -> ModelT:
    """The notification in `body`, or Rejected (422) saying what is wrong with it."""
    if _plain(body):
        # pydantic-core reads and validates in one pass, a third of the time of the path below
        # (the relay's latency, bench/notes/relay.md). What it refuses is read again below,
        # which says what is wrong in its own words.
        try:
            return model.model_validate_json(body)
        except ValidationError:
            pass
    return parse_model(parse_json(body), model, what)


def _plain(body: bytes) -> bool:
    """A small body that both readers take the same way: ASCII (so UTF-8, with no byte order
    mark), no \\u escape (so no lone surrogate), no NaN or Infinity (refused below, not by
    pydantic-core). Small, because one call into pydantic-core holds the interpreter lock."""
    return (
        len(body) <= INLINE_BODY_BYTES
        and body.isascii()
        and b"\\u" not in body
        and b"NaN" not in body
        and b"Infinity" not in body
    )


class _CollectorPause:
    """No cyclic garbage collection while a large notification is in memory.

    Reading 100,000 alerts creates a million objects that live until the notification is
    relayed; each collection meanwhile walks all of them holding the interpreter lock, which
    stalled the event loop for hundreds of milliseconds at a time (and pausing only while
    decoding just moves that walk to the first collection after). The notification holds no
    reference cycles, so it is freed the moment it is done with; collection resumes when the
    last large notification is (they may overlap).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._resume = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._resume:
                    gc.enable()


_collector_pause = _CollectorPause()


def collector_paused(body_bytes: int) -> contextlib.AbstractContextManager[None]:
    """Pause the cyclic collector around a notification of a large body (see _CollectorPause)."""
    return _collector_pause() if body_bytes > _LARGE_BODY_BYTES else contextlib.nullcontext()


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise Rejected(422, "the body is empty: expected a JSON object")
    text = _utf8(body)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_pairs)
        return _replace_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value
    except ValueError as exc:  # bad syntax, NaN, or an integer too long to read
        raise Rejected(422, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise Rejected(422, "the body is not valid JSON: nested too deeply") from None


def _utf8(body: bytes) -> str:
    """The body as text. JSON between systems is UTF-8 (RFC 8259, 8.1), and what is not UTF-8
    is refused, whichever bytes break it: Python's own JSON reader would let the encoded form
    of a lone surrogate (ED A0 80) through, as a code point nothing can encode again."""
    try:
        return body.decode("utf-8").removeprefix(_BOM)
    except UnicodeDecodeError as exc:
        raise Rejected(
            422,
            f"the body is not valid JSON: not UTF-8, {exc.reason} at byte {exc.start} "
            f"({body[exc.start : exc.end].hex(' ').upper()}); JSON must be sent as UTF-8",
        ) from None


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A Python callback per JSON object: the decoder returns to the interpreter between
    # objects, so the interpreter lock changes hands and a large body does not stall the
    # event loop while it is read in a worker thread.
    return dict(pairs)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _replace_lone_surrogates(value: Any) -> Any:
    """U+FFFD for each lone surrogate, keys included, as Go's JSON decoder (Alertmanager) does:
    the text is kept, and can be encoded (measured in UTF-16, logged, posted) again."""
    if isinstance(value, str):
        # json.loads joined every proper pair into one character: a surrogate left is alone.
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _replace_lone_surrogates(key): _replace_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


def parse_model(value: Any, model: type[ModelT], what: str) -> ModelT:
    """`value` validated as `model`; its `alerts` a slice at a time, so no single call into
    pydantic-core holds the interpreter lock for long whatever the number of alerts."""
    alerts = value.get("alerts") if isinstance(value, dict) else None
    if not isinstance(alerts, list) or len(alerts) <= _ALERTS_PER_SLICE:
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            raise _refusal(_errors(exc), what) from None
    errors: list[dict[str, Any]] = []
    try:
        notification: ModelT | None = model.model_validate({**value, "alerts": []})
    except ValidationError as exc:
        notification = None
        errors += _errors(exc)
    adapter = _alerts_adapter(model)
    valid: list[Any] = []
    for start in range(0, len(alerts), _ALERTS_PER_SLICE):
        try:
            valid += adapter.validate_python(alerts[start : start + _ALERTS_PER_SLICE])
        except ValidationError as exc:
            errors += [
                {**error, "loc": ["alerts", start + error["loc"][0], *error["loc"][1:]]}
                for error in _errors(exc)
            ]
    if notification is None or errors:
        raise _refusal(errors, what)
    return notification.model_copy(update={"alerts": valid})


def release(notification: Any) -> None:
    """Empty a relayed notification's alerts a slice at a time, in a worker thread: freeing
    100,000 alert models in one go holds the interpreter lock (and so the event loop) for as
    long as tens of milliseconds."""
    alerts: list[Any] = notification.alerts
    while alerts:
        del alerts[-_ALERTS_PER_SLICE:]


@functools.cache
def _alerts_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(model.model_fields["alerts"].annotation)


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(error["loc"]), "type": error["type"], "msg": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


def _refusal(errors: list[dict[str, Any]], what: str) -> Rejected:
    shown = "; ".join(
        f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}"
        for error in errors[:_SHOWN_ERRORS]
    )
    more = f" (and {len(errors) - _SHOWN_ERRORS} more)" if len(errors) > _SHOWN_ERRORS else ""
    return Rejected(422, f"the body is not {what}: {shown}{more}", errors=errors[:_LISTED_ERRORS])
