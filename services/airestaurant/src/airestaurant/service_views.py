"""Views that serve operations rather than users: probes, the benchmark's ping, error pages."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from airestaurant.responses import json_error

logger = logging.getLogger(__name__)


@require_safe
def ping(request: HttpRequest) -> JsonResponse:
    """No database, no cache: the cheapest view, for benchmarks of the framework's overhead."""
    return JsonResponse({"pong": True})


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the process answers and its database runs a trivial query, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The type only: driver messages can carry connection details.
        logger.warning("health check: database query failed", extra={"error": type(exc).__name__})
        return json_error(503, "unavailable", "the database does not answer", database="error")
    return JsonResponse({"status": "ok", "database": "ok"})


@require_safe
def boom(request: HttpRequest) -> JsonResponse:
    """An intentional 500, to see the error-rate panels and alerts react."""
    return json_error(500, "intentional failure", "GET /boom/ always fails, on purpose")


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(404, "not found", f"no route for {request.path}")


def server_error(request: HttpRequest) -> JsonResponse:
    return json_error(500, "internal server error")
