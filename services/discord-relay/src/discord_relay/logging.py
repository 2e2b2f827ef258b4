"""Logs as JSON lines on stdout, with every secret replaced before a line is written.

Redaction works on the finished line, so a secret is caught wherever it hides: in a message, an
extra field, an exception, or a third-party logger (httpx logs request URLs; uvicorn logs errors).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO

REDACTED = "[REDACTED]"

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# uvicorn adds a copy of its message with terminal colour codes: noise in a JSON log.
_RECORD_ATTRIBUTES.add("color_message")
_THIRD_PARTY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_CHATTY_LOGGERS = ("httpx", "httpcore")


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        forms = set()
        for secret in secrets:
            if secret:
                forms.add(secret)
                forms.add(json.dumps(secret)[1:-1])  # as it appears inside a JSON string
        # Longest first, so a URL is replaced whole before the token inside it.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text


class JsonLineFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        line = json.dumps(entry, default=str, ensure_ascii=False, separators=(",", ":"))
        return self._redact(line)


class _RelayHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we install, so configuring twice replaces it instead of adding one."""


def configure_logging(
    secrets: Iterable[str], level: str = "INFO", stream: IO[str] | None = None
) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _RelayHandler)]:
        root.removeHandler(handler)
    handler = _RelayHandler(stream or sys.stdout)
    handler.setFormatter(JsonLineFormatter(Redactor(secrets)))
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn set up its own plain-text handlers before loading us: route them through ours.
    # A logger uvicorn silenced (no handlers, no propagation: --no-access-log) stays silent.
    for name in _THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers:
            logger.handlers.clear()
            logger.propagate = True
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
