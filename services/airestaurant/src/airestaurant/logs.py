"""Django's and gunicorn's logging: every logger to stdout in fdc_logging's JSON line shape.

Kubernetes collects stdout; a JSON line keeps the message, level and request fields apart
without a parser per format, and is the same shape as every other fastdining process writes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fdc_logging import JsonLineFormatter

# Django's request loggers attach the request object (its repr is noise) and the server's own
# timestamp (the line has one).
_DJANGO_OBJECTS = ("request", "server_time")


class GunicornAccessFormatter(JsonLineFormatter):
    """gunicorn's access records, whose args are its atoms (`h`, `m`, `U`, `s`, ...).

    The query string is left out: a log line needs the route, not what users searched for.
    """

    def message(self, record: logging.LogRecord) -> str:
        return "request"

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        atoms = record.args if isinstance(record.args, Mapping) else {}
        return {
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
        "formatters": {"json": {"()": JsonLineFormatter, "ignore": _DJANGO_OBJECTS}},
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
            "json": {"()": JsonLineFormatter},
            "access": {"()": GunicornAccessFormatter},
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
