"""Checking an inbound webhook request, cheapest check first, each failure a clear 4xx.

Order: bearer token (401), media type (415), size while reading (413), JSON (422), shape (422).
The size is enforced on the bytes as they arrive, so an oversized body is never held in memory.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, SecretStr, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

_SHOWN_ERRORS = 3
# JSON may escape half a UTF-16 surrogate pair on its own (\ud800); Python keeps it as a code
# point no UTF encoding accepts. Only a body with such an escape can hold one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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


def check_bearer(request: Request, token: SecretStr | None) -> None:
    if token is None:
        return
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
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


def check_json_media_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Rejected(
            415, f"Content-Type must be application/json, not {media_type or 'missing'!r}"
        )


async def read_limited(request: Request, limit: int) -> bytes:
    too_large = Rejected(413, f"the body is larger than the limit of {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise Rejected(422, "the body is empty: expected a JSON object")
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
        return _replace_lone_surrogates(value) if _SURROGATE_ESCAPE.search(body) else value
    except ValueError as exc:  # bad syntax, bad UTF-8, NaN, or an integer too long to read
        raise Rejected(422, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise Rejected(422, "the body is not valid JSON: nested too deeply") from None


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
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = [
            {"loc": list(error["loc"]), "type": error["type"], "msg": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        shown = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}"
            for error in errors[:_SHOWN_ERRORS]
        )
        more = f" (and {len(errors) - _SHOWN_ERRORS} more)" if len(errors) > _SHOWN_ERRORS else ""
        raise Rejected(422, f"the body is not {what}: {shown}{more}", errors=errors) from None
