"""The ASGI app: thin routes over inbound checks, the relay, and the sinks.

`discord_relay.app:app` reads its settings at start-up (uvicorn's lifespan), so a bad
configuration stops the process with a clear message before it accepts a request.

The two notification endpoints are served by `_RelayApp.__call__`, ahead of FastAPI's
middleware and router: every alert passes through them, and FastAPI's route handling (routing,
dependency solving, response serialisation, its exception handlers) added about 1 % to a
notification's latency against Alertmanager's own Discord integration, a fifth of the relay's
budget (bench/notes/relay.md). An error they do not handle reaches uvicorn, which answers 500.
FastAPI serves the probes, the metrics and the OpenAPI document, which describes the
notification endpoints too.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import fdc_logging
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic.json_schema import models_json_schema
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from discord_relay.config import Settings
from discord_relay.dedup import DeliveredParts
from discord_relay.delivery import DiscordSink, LogSink, RetryPolicy, Sink
from discord_relay.inbound import (
    INLINE_BODY_BYTES,
    Rejected,
    check_bearer,
    check_json_media_type,
    collector_paused,
    decode_notification,
    header,
    read_limited,
    release,
)
from discord_relay.messages import Source
from discord_relay.metrics import RelayMetrics
from discord_relay.payloads import AlertmanagerNotification, GrafanaNotification
from discord_relay.relay import Delivered, NotDelivered, Relay

log = logging.getLogger(__name__)

# When nothing better is known, ask the sender to come back after this many seconds.
_DEFAULT_RETRY_AFTER_SECONDS = 5
_ENDPOINTS: dict[str, tuple[Source, type[AlertmanagerNotification], str]] = {
    "/alertmanager": (
        "alertmanager",
        AlertmanagerNotification,
        "an Alertmanager webhook payload (version 4)",
    ),
    "/grafana": ("grafana", GrafanaNotification, "a Grafana or Alertmanager webhook payload"),
}


# Every refusal is `{"error": "<why>", ...}`: published, so schemathesis checks it too.
_REFUSAL: dict[str, Any] = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string", "minLength": 1}},
            }
        }
    }
}


_DELIVERED: dict[str, Any] = {
    "description": "every message delivered (or delivered before, on a retry)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["status", "messages", "sent", "already_delivered"],
                "properties": {
                    "status": {"const": "delivered"},
                    "messages": {"type": "integer", "minimum": 1},
                    "sent": {"type": "integer", "minimum": 0},
                    "already_delivered": {"type": "integer", "minimum": 0},
                },
            }
        }
    },
}


def build_sink(settings: Settings, metrics: RelayMetrics) -> Sink:
    """The one place that decides: Discord when a webhook URL is configured, else the log."""
    if settings.discord_webhook_url is None:
        return LogSink(metrics)
    policy = RetryPolicy(
        max_attempts=settings.max_attempts,
        timeout_seconds=settings.discord_timeout_seconds,
        backoff_base_seconds=settings.backoff_base_seconds,
        backoff_max_seconds=settings.backoff_max_seconds,
    )
    return DiscordSink(settings.discord_webhook_url.get_secret_value(), policy, metrics)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; `settings` for tests, else read from the environment when the app starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = settings or Settings()
        fdc_logging.configure(active.log_level, secrets=active.secrets())
        metrics = RelayMetrics()
        sink = build_sink(active, metrics)
        app.state.settings = active
        app.state.metrics = metrics
        app.state.relay = Relay(
            sink=sink,
            memory=DeliveredParts(active.dedup_ttl_seconds, active.dedup_max_entries),
            metrics=metrics,
            username=active.bot_name,
            avatar_url=active.bot_avatar_url,
            budget_seconds=active.delivery_budget_seconds,
        )
        if sink.kind == "log":
            log.warning(
                "no Discord webhook configured (DISCORD_WEBHOOK_URL or DISCORD_WEBHOOK_URL_FILE): "
                "log sink mode, every Discord message is written to stdout as one JSON line",
                extra={"sink": sink.kind},
            )
        else:
            log.info("relaying to Discord", extra={"sink": sink.kind})
        try:
            yield
        finally:
            await sink.aclose()

    app = _RelayApp(
        title="Discord relay",
        summary="Alertmanager and Grafana alerts to Discord, nothing lost, nothing repeated.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_api_route("/healthz", _healthz, methods=["GET"])
    app.add_api_route("/readyz", _readyz, methods=["GET"])
    app.add_api_route("/metrics", _metrics, methods=["GET"], response_class=PlainTextResponse)
    _document_notification_endpoints(app)
    return app


async def _decode_and_deliver(
    relay: Relay, body: bytes, source: Source, model: type[AlertmanagerNotification], what: str
) -> Delivered:
    """A small body (nearly every notification) is decoded and planned on the event loop: it
    takes tens of microseconds, less than the hand-offs to a worker thread and back cost (most
    of the relay's latency when it did so). Decoding 4 MiB of alerts takes a while: in a worker
    thread, so the event loop keeps answering /healthz. A frame of its own, so the
    notification is freed when it returns."""
    if len(body) <= INLINE_BODY_BYTES:
        return await relay.deliver(decode_notification(body, model, what), source, inline=True)
    with collector_paused(len(body)):
        notification = await asyncio.to_thread(decode_notification, body, model, what)
        try:
            return await relay.deliver(notification, source, inline=False)
        finally:
            await asyncio.to_thread(release, notification)


async def _healthz() -> dict[str, str]:
    return {"status": "alive"}


async def _readyz(request: Request) -> dict[str, str]:
    relay: Relay = request.app.state.relay
    note = {
        "discord": "posting to the configured Discord webhook",
        "log": "no Discord webhook configured: messages are written to stdout (log sink mode)",
    }[relay.sink.kind]
    return {"status": "ready", "sink": relay.sink.kind, "detail": note}


async def _metrics(request: Request) -> Response:
    metrics: RelayMetrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")


class _RelayApp(FastAPI):
    """POST /alertmanager and /grafana, ahead of FastAPI's middleware and router (see the
    module's docstring). Counts every notification by endpoint and the status code answered,
    refusals and failures included.

    So no middleware, exception handler or body limit of FastAPI's sees a notification: the
    app has none (a test holds that), and one added later would wrap every route but these."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A trailing slash too, as FastAPI's routes took it (by a redirect) before.
        path = scope["path"].rstrip("/") if scope["type"] == "http" else None
        endpoint = _ENDPOINTS.get(path) if path else None
        if endpoint is None:
            await super().__call__(scope, receive, send)
            return
        source = endpoint[0]
        try:
            response = await _answer(self.state, scope, receive, *endpoint)
        except Exception:
            # Uvicorn answers 500 for it: count it here.
            _count(self.state, source, 500)
            raise
        _count(self.state, source, response.status_code)
        await response(scope, receive, send)


async def _answer(
    state: State,
    scope: Scope,
    receive: Receive,
    source: Source,
    model: type[AlertmanagerNotification],
    what: str,
) -> Response:
    path, method = scope["path"], scope["method"]
    if method != "POST":
        return JSONResponse(
            {"error": f"{path} takes POST only, not {method}"},
            status_code=405,
            headers={"Allow": "POST"},
        )
    settings: Settings = state.settings
    try:
        check_bearer(header(scope, b"authorization"), settings.auth_token)
        check_json_media_type(header(scope, b"content-type"))
        body = await read_limited(
            receive, header(scope, b"content-length"), settings.max_body_bytes
        )
        delivered = await _decode_and_deliver(state.relay, body, source, model, what)
    except Rejected as exc:
        # Logged here because access logs are off: a sender with a wrong token or a broken
        # template must show up in the relay's log, not only in its metrics.
        log.warning(
            "notification refused",
            extra={"path": path, "status": exc.status, "reason": exc.reason},
        )
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
    except NotDelivered as exc:
        return _not_delivered(exc)
    return JSONResponse(
        {
            "status": "delivered",
            "messages": delivered.messages,
            "sent": delivered.sent,
            "already_delivered": delivered.already_delivered,
        }
    )


def _not_delivered(exc: NotDelivered) -> JSONResponse:
    retry_after = (
        _DEFAULT_RETRY_AFTER_SECONDS if exc.retry_after is None else math.ceil(exc.retry_after)
    )
    return JSONResponse(
        {
            "error": f"Discord did not take every message in time: {exc.reason}",
            "messages": exc.total,
            "delivered": exc.delivered,
        },
        status_code=503,
        headers={"Retry-After": str(max(retry_after, 1))},
    )


def _count(state: State, source: Source, status: int) -> None:
    metrics: RelayMetrics | None = getattr(state, "metrics", None)
    if metrics is not None:
        metrics.notifications.labels(source=source, code=str(status)).inc()


def _operation(source: Source, model: type[AlertmanagerNotification], what: str) -> dict[str, Any]:
    """The OpenAPI operation of a notification endpoint."""
    refusals = {
        "401": "missing or wrong bearer token",
        "405": "not POST",
        "413": "body too large",
        "415": "not JSON",
        "422": "not UTF-8, malformed JSON or not the expected shape",
        "503": "Discord did not take every message in time: retry later",
    }
    return {
        "summary": f"Relay {what} to Discord",
        "operationId": source,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        },
        "responses": {
            "200": _DELIVERED,
            **{status: {"description": why, **_REFUSAL} for status, why in refusals.items()},
        },
    }


def _document_notification_endpoints(app: FastAPI) -> None:
    """The notification endpoints are not FastAPI routes: add them, and the schemas of their
    bodies, to the OpenAPI document FastAPI generates."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _, definitions = models_json_schema(
                [(AlertmanagerNotification, "validation"), (GrafanaNotification, "validation")],
                ref_template="#/components/schemas/{model}",
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                definitions.get("$defs", {})
            )
            schema["paths"] = {
                **{path: {"post": _operation(*endpoint)} for path, endpoint in _ENDPOINTS.items()},
                **schema.get("paths", {}),
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
