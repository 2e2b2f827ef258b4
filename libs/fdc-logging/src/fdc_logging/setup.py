"""Install the JSON line formatter on the root logger, for processes configured in code.

uvicorn sets up its own plain-text handlers before it loads an app; `configure` routes them
through the root handler, so the server's lines come out in the same shape as the app's.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import IO

from fdc_logging.formatter import JsonLineFormatter
from fdc_logging.redaction import Redactor

_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# HTTP clients log every request at INFO, with its URL (which may hold a token).
_CHATTY_LOGGERS = ("httpx", "httpcore")


class _JsonLineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we install, so configuring twice replaces it instead of adding one."""


def configure(
    level: str | int = "INFO",
    *,
    secrets: Iterable[str] = (),
    ignore: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    """Every record, from any logger, as one JSON line on `stream` (stdout), `secrets` redacted."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _JsonLineHandler)]:
        root.removeHandler(handler)
    handler = _JsonLineHandler(stream or sys.stdout)
    handler.setFormatter(JsonLineFormatter(Redactor(secrets), ignore))
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # A logger uvicorn silenced (no handlers, no propagation: --no-access-log) stays silent.
    for name in _SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers:
            logger.handlers.clear()
            logger.propagate = True
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
