"""A STAND-IN for Discord's webhook API (Discord itself cannot be reached from tests), and a
runner for the relay that posts to it.

The stand-in is a small FastAPI app run as a real, separate uvicorn process on loopback, so a real
Alertmanager (its native `discord_configs`) can post to it as well as the relay. It behaves like
Discord where the relay depends on it:

- Only webhooks created through `Standin.webhook_url()` exist: as Discord, it answers 404
  "Unknown Webhook" (10015) for any other id and 401 "Invalid Webhook Token" (50027) for a known
  id with another token. They stay through a reset and a restart, as a webhook in Discord would.
- `POST /api/webhooks/{id}/{token}[?wait=true]` validates every message limit Discord enforces and
  answers 400 with Discord's error shape (`{"code": 50035, "message": "Invalid Form Body",
  "errors": {...}}`) when one is broken; 200 with the message (wait=true) or 204 when accepted.
- It can be told to answer 429 (with `retry_after` in the body and a `Retry-After` header), 500,
  or hang, for the next N requests or until told otherwise.
- It records the arrival of every request and every accepted message, in memory and in a JSON
  lines file, so the records survive a restart (`Standin.down()`, an outage).

Lengths are counted in UTF-16 code units, never fewer than code points: stricter than or equal to
Discord whichever it counts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from testkit.processes import LOOPBACK, RunningServer, free_port, run_server

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_NAME_MAX = 256
USERNAME_MAX = 80
COLOUR_MAX = 0xFFFFFF

_RECORD_FILE_ENV = "DISCORD_STANDIN_RECORD_FILE"

Errors = dict[str, Any]


def length(text: str) -> int:
    """UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _too_long(limit: int) -> Errors:
    return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _check_text(value: Any, limit: int, *, required: bool = False) -> Errors | None:
    if value is None:
        return _error("BASE_TYPE_REQUIRED", "This field is required") if required else None
    if not isinstance(value, str):
        return _error("BASE_TYPE_STRING", "Must be a string.")
    if required and not value.strip():
        return _error("BASE_TYPE_REQUIRED", "This field is required")
    if length(value) > limit:
        return _too_long(limit)
    return None


def _check_url(value: Any) -> Errors | None:
    if value is None:
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in {"http", "https"}:
        return _error("URL_TYPE_INVALID_SCHEME", "Scheme must be one of ('http', 'https').")
    return None


def _check_embed(embed: Any) -> Errors:
    if not isinstance(embed, dict):
        return _error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    errors: Errors = {}
    for key, limit in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
        if problem := _check_text(embed.get(key), limit):
            errors[key] = problem
    if problem := _check_url(embed.get("url")):
        errors["url"] = problem
    colour = embed.get("color")
    if colour is not None and (
        isinstance(colour, bool) or not isinstance(colour, int) or not 0 <= colour <= COLOUR_MAX
    ):
        errors["color"] = _error("NUMBER_TYPE_MAX", f"int value should be <= {COLOUR_MAX}.")
    timestamp = embed.get("timestamp")
    if timestamp is not None:
        try:
            datetime.fromisoformat(timestamp)
        except (TypeError, ValueError):
            errors["timestamp"] = _error("DATE_TIME_TYPE_PARSE", "Could not parse timestamp.")
    fields = embed.get("fields", [])
    if not isinstance(fields, list):
        errors["fields"] = _error("LIST_TYPE_CONVERT", "Must be an array.")
    elif len(fields) > FIELDS_MAX:
        errors["fields"] = _too_long(FIELDS_MAX)
    else:
        field_errors: Errors = {}
        for index, item in enumerate(fields):
            item_errors: Errors = {}
            if not isinstance(item, dict):
                field_errors[str(index)] = _error("DICT_TYPE_CONVERT", "Must be an object.")
                continue
            for key, limit in (("name", FIELD_NAME_MAX), ("value", FIELD_VALUE_MAX)):
                if problem := _check_text(item.get(key), limit, required=True):
                    item_errors[key] = problem
            if item_errors:
                field_errors[str(index)] = item_errors
        if field_errors:
            errors["fields"] = field_errors
    for key, inner, limit in (("footer", "text", FOOTER_MAX), ("author", "name", AUTHOR_NAME_MAX)):
        part = embed.get(key)
        if part is None:
            continue
        if not isinstance(part, dict):
            errors[key] = _error("DICT_TYPE_CONVERT", "Must be an object.")
        elif problem := _check_text(part.get(inner), limit, required=True):
            errors[key] = {inner: problem}
    return errors


def embed_size(embed: dict[str, Any]) -> int:
    """What Discord counts towards the 6000 characters shared by one message's embeds."""
    texts = [embed.get("title"), embed.get("description")]
    for item in embed.get("fields", []):
        texts += [item.get("name"), item.get("value")]
    texts += [(embed.get("footer") or {}).get("text"), (embed.get("author") or {}).get("name")]
    return sum(length(text) for text in texts if isinstance(text, str))


def validate_message(body: Any) -> Errors:
    """The `errors` tree Discord would answer for this webhook body; empty when it is valid."""
    if not isinstance(body, dict):
        return {"_errors": [{"code": "DICT_TYPE_CONVERT", "message": "Must be an object."}]}
    errors: Errors = {}
    if problem := _check_text(body.get("content"), CONTENT_MAX):
        errors["content"] = problem
    username = body.get("username")
    if problem := _check_text(username, USERNAME_MAX):
        errors["username"] = problem
    elif isinstance(username, str):
        for word in ("discord", "clyde"):
            if word in username.lower():
                errors["username"] = _error(
                    "USERNAME_INVALID_CONTAINS", f'Username cannot contain "{word}"'
                )
    if problem := _check_url(body.get("avatar_url")):
        errors["avatar_url"] = problem
    embeds = body.get("embeds", [])
    if not isinstance(embeds, list):
        errors["embeds"] = _error("LIST_TYPE_CONVERT", "Must be an array.")
    elif len(embeds) > EMBEDS_MAX:
        errors["embeds"] = _too_long(EMBEDS_MAX)
    else:
        embed_errors = {str(i): e for i, embed in enumerate(embeds) if (e := _check_embed(embed))}
        if embed_errors:
            errors["embeds"] = embed_errors
        elif sum(embed_size(embed) for embed in embeds) > EMBED_TOTAL_MAX:
            errors["embeds"] = _error(
                "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"
            )
    return errors


def _is_empty(body: dict[str, Any]) -> bool:
    content = body.get("content")
    return not (isinstance(content, str) and content.strip()) and not body.get("embeds")


# ---------------------------------------------------------------------------------------------
# The stand-in app


class Webhook(BaseModel):
    id: str
    token: str


class ModeRequest(BaseModel):
    mode: Literal["ok", "429", "500", "hang"] = "ok"
    retry_after: float = Field(default=1.0, ge=0)
    count: int | None = Field(default=None, ge=1, description="requests answered so, then ok")
    after: int = Field(default=0, ge=0, description="requests answered ok before the mode starts")
    hang_seconds: float = Field(default=30.0, ge=0)
    # Make ok answers say the bucket is empty, as Discord does before it would answer 429.
    reset_after: float | None = Field(default=None, ge=0)


Record = Literal["request", "accepted", "webhook"]


@dataclass
class _State:
    mode: ModeRequest = field(default_factory=ModeRequest)
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    webhooks: set[tuple[str, str]] = field(default_factory=set)
    record_file: Path | None = None
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def refusal(self, webhook_id: str, token: str) -> JSONResponse | None:
        """Discord's answer for a webhook that does not exist or a wrong token; else None."""
        if (webhook_id, token) in self.webhooks:
            return None
        if any(known == webhook_id for known, _ in self.webhooks):
            return JSONResponse({"message": "Invalid Webhook Token", "code": 50027}, 401)
        return JSONResponse({"message": "Unknown Webhook", "code": 10015}, 404)

    def next_answer(self) -> tuple[str, ModeRequest]:
        """How to answer this request, and the mode that decided it."""
        mode = self.mode
        if mode.mode == "ok" or mode.after > 0:
            mode.after = max(mode.after - 1, 0)
            return "ok", mode
        if mode.count is not None:
            mode.count -= 1
            if mode.count == 0:
                self.mode = ModeRequest(reset_after=mode.reset_after)
        return mode.mode, mode

    def record(self, kind: Record, entry: dict[str, Any]) -> None:
        self._keep(kind, entry)
        if self.record_file is not None:
            with self.record_file.open("a", encoding="utf-8") as out:
                out.write(_record_line(kind, entry))

    def load(self) -> None:
        if self.record_file is None or not self.record_file.exists():
            return
        for line in self.record_file.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            self._keep(entry.pop("kind"), entry)

    def reset(self) -> None:
        """A new mode and no records; the webhooks stay, so a relay configured with one goes on."""
        self.mode = ModeRequest()
        self.requests.clear()
        self.accepted.clear()
        if self.record_file is not None:
            # A new file in the old one's place (a reader watching it sees the change), holding
            # the webhooks again so they outlive a restart after the reset too.
            fresh = self.record_file.with_suffix(".reset")
            fresh.write_text(
                "".join(
                    _record_line("webhook", {"id": webhook_id, "token": token})
                    for webhook_id, token in sorted(self.webhooks)
                ),
                encoding="utf-8",
            )
            fresh.replace(self.record_file)

    def _keep(self, kind: Record, entry: dict[str, Any]) -> None:
        if kind == "webhook":
            self.webhooks.add((entry["id"], entry["token"]))
        else:
            (self.requests if kind == "request" else self.accepted).append(entry)


def _record_line(kind: Record, entry: dict[str, Any]) -> str:
    return json.dumps({"kind": kind, **entry}) + "\n"


def create_standin_app() -> FastAPI:
    state = _State()
    record_file = os.environ.get(_RECORD_FILE_ENV)
    state.record_file = Path(record_file) if record_file else None
    state.load()
    app = FastAPI(title="Discord webhook API stand-in (for tests)")

    @app.post("/api/webhooks/{webhook_id}/{token}")
    async def execute_webhook(webhook_id: str, token: str, request: Request) -> Response:
        arrival = {"at": time.time(), "monotonic": time.monotonic(), "webhook_id": webhook_id}
        if refusal := state.refusal(webhook_id, token):
            state.record("request", {**arrival, "answer": refusal.status_code})
            return refusal
        answer, mode = state.next_answer()
        if answer == "hang":
            state.record("request", {**arrival, "answer": "hang"})
            await asyncio.sleep(mode.hang_seconds)
            return JSONResponse({"message": "hung up by the stand-in", "code": 0}, 504)
        if answer == "429":
            retry_after = mode.retry_after
            state.record("request", {**arrival, "answer": 429})
            return JSONResponse(
                {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                },
                429,
                headers={"Retry-After": str(retry_after), "X-RateLimit-Scope": "user"},
            )
        if answer == "500":
            state.record("request", {**arrival, "answer": 500})
            return JSONResponse({"message": "500: Internal Server Error", "code": 0}, 500)
        try:
            body = json.loads(await request.body())
        except ValueError:
            state.record("request", {**arrival, "answer": 400})
            return JSONResponse(
                {"code": 50109, "message": "The request body contains invalid JSON."}, 400
            )
        if errors := validate_message(body):
            state.record("request", {**arrival, "answer": 400, "errors": errors})
            return JSONResponse(
                {"code": 50035, "message": "Invalid Form Body", "errors": errors}, 400
            )
        if _is_empty(body):
            state.record("request", {**arrival, "answer": 400})
            return JSONResponse({"code": 50006, "message": "Cannot send an empty message"}, 400)
        message_id = str(next(state.ids))
        state.record("request", {**arrival, "answer": 200})
        state.record("accepted", {**arrival, "id": message_id, "body": body})
        headers = {}
        if mode.reset_after is not None:
            headers = {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(mode.reset_after),
            }
        if request.query_params.get("wait", "").lower() != "true":
            return Response(status_code=204, headers=headers)
        message = {"id": message_id, "type": 0, "webhook_id": webhook_id, "channel_id": "1", **body}
        return JSONResponse(message, 200, headers=headers)

    @app.post("/_control/webhooks")
    async def create_webhook(webhook: Webhook) -> Webhook:
        if (webhook.id, webhook.token) not in state.webhooks:
            state.record("webhook", webhook.model_dump())
        return webhook

    @app.post("/_control/mode")
    async def set_mode(mode: ModeRequest) -> dict[str, Any]:
        state.mode = mode
        return mode.model_dump()

    @app.get("/_control/requests")
    async def requests() -> list[dict[str, Any]]:
        return state.requests

    @app.get("/_control/accepted")
    async def accepted() -> list[dict[str, Any]]:
        """Accepted messages in arrival order."""
        return state.accepted

    @app.post("/_control/reset")
    async def reset() -> dict[str, str]:
        state.reset()
        return {"status": "reset"}

    return app


standin_app = create_standin_app()


# ---------------------------------------------------------------------------------------------
# Running it, and driving it from tests


@dataclass
class Standin:
    """The running stand-in: its URLs, and helpers to set its mode and read its records."""

    port: int
    workdir: Path
    _stack: ExitStack = field(default_factory=ExitStack)
    # Webhooks already created: the stand-in keeps them, so a URL costs one request only once.
    _webhooks: set[tuple[str, str]] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def webhook_url(
        self,
        webhook_id: str = "100000000000000001",
        token: str = "standin-token",  # noqa: S107 - a test value, not a secret
    ) -> str:
        """The URL of this webhook, created in the stand-in if it is new."""
        if (webhook_id, token) not in self._webhooks:
            webhook = {"id": webhook_id, "token": token}
            httpx.post(f"{self.base_url}/_control/webhooks", json=webhook).raise_for_status()
            self._webhooks.add((webhook_id, token))
        return f"{self.base_url}/api/webhooks/{webhook_id}/{token}"

    def set_mode(self, mode: str = "ok", **options: Any) -> None:
        response = httpx.post(f"{self.base_url}/_control/mode", json={"mode": mode, **options})
        response.raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.base_url}/_control/reset").raise_for_status()

    @property
    def record_file(self) -> Path:
        """Every request and accepted message, a JSON line each, written as they arrive."""
        return self.workdir / "discord-standin-records.jsonl"

    def watch_accepted(self) -> AcceptedWatch:
        """The messages accepted from now on, read from the record file (see AcceptedWatch)."""
        return AcceptedWatch(self.record_file)

    def accepted(self, webhook_id: str | None = None) -> list[dict[str, Any]]:
        """Accepted messages (of one webhook, if given)."""
        response = httpx.get(f"{self.base_url}/_control/accepted")
        records = response.raise_for_status().json()
        return [r for r in records if webhook_id is None or r["webhook_id"] == webhook_id]

    def requests(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.base_url}/_control/requests").raise_for_status().json()

    def wait_for_accepted(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Poll the accepted messages until `predicate(all of them)` holds; return them."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.accepted()
            if predicate(records):
                return records
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the stand-in did not get the expected messages in {timeout}s; it accepted "
                    f"{len(records)} and saw {len(self.requests())} requests"
                )
            time.sleep(0.1)

    @contextmanager
    def down(self) -> Iterator[None]:
        """An outage: the process stops (connections are refused) and starts again, same port."""
        self._stack.close()
        try:
            yield
        finally:
            self._start()

    def _start(self) -> None:
        self._stack = ExitStack()
        self._stack.enter_context(
            run_server(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "testkit.discord:standin_app",
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(self.port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                    # A hanging request must not hold the shutdown of an outage for long.
                    "--timeout-graceful-shutdown",
                    "1",
                ],
                ready_url=f"{self.base_url}/_control/requests",
                base_url=self.base_url,
                log_path=self.workdir / "discord-standin.log",
                env={_RECORD_FILE_ENV: str(self.record_file)},
            )
        )


@contextmanager
def run_discord_standin(tmp_path: Path) -> Iterator[Standin]:
    workdir = tmp_path / "discord-standin"
    workdir.mkdir(parents=True, exist_ok=True)
    standin = Standin(port=free_port(), workdir=workdir)
    standin._start()
    try:
        yield standin
    finally:
        standin._stack.close()


class AcceptedWatch:
    """Messages the stand-in accepts after this watch was made, read from its record file.

    Waiting for a message this way costs the stand-in nothing: a benchmark that asked its HTTP
    API every few milliseconds (a connection and a request each time) took CPU from the very
    processes it timed. Each accepted record carries the stand-in's own arrival time, `at`. A
    reset replaces the file (a new inode): the watch then reads the new one from its start."""

    POLL_SECONDS = 0.002

    def __init__(self, path: Path) -> None:
        self._path = path
        self._inode, self._offset = self._where()
        self._pending = b""
        self._unread: deque[dict[str, Any]] = deque()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        """The first newly accepted record that `predicate` holds for; the records after it
        are kept for the next call."""
        deadline = time.monotonic() + timeout
        while True:
            self._unread.extend(self._new_records())
            while self._unread:
                record = self._unread.popleft()
                if record["kind"] == "accepted" and predicate(record):
                    return record
            if time.monotonic() > deadline:
                raise TimeoutError(f"no accepted message matched within {timeout}s")
            time.sleep(self.POLL_SECONDS)

    def _where(self) -> tuple[int | None, int]:
        try:
            status = self._path.stat()
        except FileNotFoundError:
            return None, 0
        return status.st_ino, status.st_size

    def _new_records(self) -> list[dict[str, Any]]:
        try:
            records = self._path.open("rb")
        except FileNotFoundError:
            return []
        with records:
            # The opened file's own inode and size: a reset may replace the path meanwhile.
            status = os.fstat(records.fileno())
            if status.st_ino != self._inode:  # reset, or first written: read it from its start
                self._inode, self._offset, self._pending = status.st_ino, 0, b""
            if status.st_size <= self._offset:
                return []
            records.seek(self._offset)
            chunk = self._pending + records.read(status.st_size - self._offset)
        self._offset = status.st_size
        # A line is whole once its newline is written.
        *lines, self._pending = chunk.split(b"\n")
        return [json.loads(line) for line in lines if line]


def message_text(record: dict[str, Any]) -> str:
    """All of an accepted message as one string, to search for an alert's name."""
    return json.dumps(record["body"], ensure_ascii=False)


# pytest fixtures: a conftest imports both to share one stand-in process per session.
@pytest.fixture(scope="session")
def discord_standin_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standin]:
    with run_discord_standin(tmp_path_factory.mktemp("standin")) as standin:
        yield standin


@pytest.fixture
def standin(discord_standin_process: Standin) -> Standin:
    """The Discord stand-in (a real uvicorn process shared by the session), reset for this test."""
    discord_standin_process.reset()
    return discord_standin_process


@contextmanager
def run_relay(
    tmp_path: Path, env: Mapping[str, str], *, port: int | None = None
) -> Iterator[RunningServer]:
    """The relay as its image runs it: `python -m discord_relay` (uvicorn inside), on loopback.

    Without a token in `env` it runs with RELAY_ALLOW_UNAUTHENTICATED=true (the relay refuses
    to start with neither): say which by giving RELAY_AUTH_TOKEN(_FILE) or not."""
    port = port or free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    # The relay must see only the settings the caller chose, never ones from the developer's
    # shell: an empty value counts as unset for the relay.
    unset = {name: "" for name in os.environ if _is_relay_setting(name)}
    listen = {"RELAY_HOST": LOOPBACK, "RELAY_PORT": str(port)}
    if not {"RELAY_AUTH_TOKEN", "RELAY_AUTH_TOKEN_FILE"} & set(env):
        listen["RELAY_ALLOW_UNAUTHENTICATED"] = "true"
    with run_server(
        [sys.executable, "-m", "discord_relay"],
        ready_url=f"{base_url}/readyz",
        base_url=base_url,
        log_path=tmp_path / f"discord-relay-{port}.log",
        env={**unset, **listen, **env},
    ) as server:
        yield server


def _is_relay_setting(name: str) -> bool:
    return name.startswith(("DISCORD_", "RELAY_", "BOT_"))
