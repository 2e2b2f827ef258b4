"""The one shape of an error body: `{"error": <short reason>, "detail": ..., ...}`."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def json_error(status: int, error: str, detail: str | None = None, **extra: Any) -> JsonResponse:
    body: dict[str, Any] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return JsonResponse(body, status=status)
