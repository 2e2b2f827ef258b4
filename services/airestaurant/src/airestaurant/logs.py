"""One JSON object a line on stdout, for Django's loggers and gunicorn's alike.

Kubernetes collects stdout; a JSON line keeps the message, level and request fields apart
without a parser per format.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A record as `{"time", "level", "logger", "message", ...extra, "exception"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record), default=str, ensure_ascii=False)

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            # Django's request logger attaches the request object; its repr is noise.
            if key not in _RECORD_ATTRIBUTES and key != "request":
                fields[key] = value
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return fields


class GunicornAccessJsonFormatter(JsonFormatter):
    """gunicorn's access records, whose args are its atoms (`h`, `m`, `U`, `s`, ...).

    The query string is left out: a log line needs the route, not what users searched for.
    """

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        atoms = record.args if isinstance(record.args, Mapping) else {}
        return {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": "request",
            "remote": atoms.get("h"),
            "method": atoms.get("m"),
            "path": atoms.get("U"),
            "status": _int_or_none(atoms.get("s")),
            "bytes": atoms.get("B"),
            "duration_ms": _milliseconds(atoms.get("D")),
            "user_agent": atoms.get("a"),
        }


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _milliseconds(microseconds: object) -> float | None:
    return round(microseconds / 1000, 3) if isinstance(microseconds, int) else None


def django_logging(level: str) -> dict[str, Any]:
    """Django's LOGGING: every logger to stdout as JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Django's own defaults would print to stderr as plain text; route them here instead.
            "django": {"handlers": ["stdout"], "level": level, "propagate": False},
        },
    }


def gunicorn_logging(level: str, *, access_log: bool = True) -> dict[str, Any]:
    """gunicorn's logconfig_dict: its error and access logs to stdout as JSON lines.

    Without `access_log`, the access logger still exists (gunicorn always calls it once a
    logconfig_dict is set) but drops every record.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": JsonFormatter},
            "access": {"()": GunicornAccessJsonFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
            },
            "access": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "access",
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {
                "handlers": ["access"] if access_log else [],
                "level": "INFO" if access_log else "CRITICAL",
                "propagate": False,
            },
        },
    }
