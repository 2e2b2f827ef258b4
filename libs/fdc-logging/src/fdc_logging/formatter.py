"""A log record as one JSON object: `{"time", "level", "logger", "message", "fields"}`.

Always those five keys, in that order, whatever the record carries: what a call adds with
`extra=` (and the exception, if any) goes under `fields`, so an extra named `message` or `time`
can never overwrite the record's own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

SHAPE = ("time", "level", "logger", "message", "fields")

# Attributes every LogRecord has; anything else on a record came from `extra=` (or an adapter).
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    # uvicorn adds a copy of its message with terminal colour codes: noise in a JSON log.
    "color_message",
}


class JsonLineFormatter(logging.Formatter):
    """`redact` rewrites the finished line (so a secret is caught wherever it hides);
    `ignore` names record attributes to leave out (objects whose repr is noise)."""

    def __init__(
        self, redact: Callable[[str], str] | None = None, ignore: Iterable[str] = ()
    ) -> None:
        super().__init__()
        self._redact = redact
        self._ignore = _RECORD_ATTRIBUTES | frozenset(ignore)

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.message(record),
            "fields": self.fields(record),
        }
        line = json.dumps(entry, default=str, ensure_ascii=False, separators=(",", ":"))
        return self._redact(line) if self._redact else line

    def message(self, record: logging.LogRecord) -> str:
        return record.getMessage()

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields = {
            key: value
            for key, value in vars(record).items()
            if key not in self._ignore and not key.startswith("_")
        }
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return fields
