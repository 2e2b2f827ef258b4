"""The ASGI app: thin routes over inbound checks, the relay, and the sinks.

`discord_relay.app:app` reads its settings at start-up (uvicorn's lifespan), so a bad
configuration stops the process with a clear message before it accepts a request.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import fdc_logging
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic.json_schema import models_json_schema
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    app = FastAPI(
        title="Discord relay",
        summary="Alertmanager and Grafana alerts to Discord, nothing lost, nothing repeated.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(_CountNotifications)
    app.add_exception_handler(Rejected, _rejected)  # type: ignore[arg-type]
    app.add_exception_handler(NotDelivered, _not_delivered)  # type: ignore[arg-type]
    for path, (source, model, what) in _ENDPOINTS.items():
        app.add_api_route(
            path,
            _receiver(source, model, what),
            methods=["POST"],
            name=source,
            summary=f"Relay {what} to Discord",
            responses={
                200: _DELIVERED,
                401: {"description": "missing or wrong bearer token", **_REFUSAL},
                413: {"description": "body too large", **_REFUSAL},
                415: {"description": "not JSON", **_REFUSAL},
                422: {
                    "description": "not UTF-8, malformed JSON or not the expected shape",
                    **_REFUSAL,
                },
                503: {
                    "description": "Discord did not take every message in time: retry later",
                    **_REFUSAL,
                },
            },
            openapi_extra={"requestBody": _body_reference(model)},
        )
    app.add_api_route("/healthz", _healthz, methods=["GET"])
    app.add_api_route("/readyz", _readyz, methods=["GET"])
    app.add_api_route("/metrics", _metrics, methods=["GET"], response_class=PlainTextResponse)
    _document_bodies(app)
    return app


def _receiver(
    source: Source, model: type[AlertmanagerNotification], what: str
) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    async def receive(request: Request) -> dict[str, Any]:
        settings: Settings = request.app.state.settings
        check_bearer(request, settings.auth_token)
        check_json_media_type(request)
        body = await read_limited(request, settings.max_body_bytes)
        relay: Relay = request.app.state.relay
        with collector_paused(len(body)):
            delivered = await _decode_and_deliver(relay, body, source, model, what)
        return {
            "status": "delivered",
            "messages": delivered.messages,
            "sent": delivered.sent,
            "already_delivered": delivered.already_delivered,
        }

    return receive


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


async def _rejected(request: Request, exc: Rejected) -> JSONResponse:
    # Logged here because access logs are off: a sender with a wrong token or a broken template
    # must show up in the relay's log, not only in its metrics.
    log.warning(
        "notification refused",
        extra={"path": request.url.path, "status": exc.status, "reason": exc.reason},
    )
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _not_delivered(request: Request, exc: NotDelivered) -> JSONResponse:
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


class _CountNotifications:
    """Counts every notification by endpoint and the status code answered, 4xx included
    (those are raised before the route body runs, so the route alone could not count them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = _ENDPOINTS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        answered = False

        async def counting_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = True
                _count(scope, endpoint[0], message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            # Starlette's outermost middleware answers 500 for it, past this one: count it here.
            if not answered:
                _count(scope, endpoint[0], 500)
            raise


def _count(scope: Scope, source: Source, status: int) -> None:
    metrics: RelayMetrics | None = getattr(scope["app"].state, "metrics", None)
    if metrics is not None:
        metrics.notifications.labels(source=source, code=str(status)).inc()


def _body_reference(model: type[AlertmanagerNotification]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _document_bodies(app: FastAPI) -> None:
    """Routes read their bodies by hand (size before parsing); publish the schemas anyway."""
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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
