"""Log records become one JSON object a line, with gunicorn's access fields spelled out."""

from __future__ import annotations

import json
import logging
import sys

from airestaurant.logs import GunicornAccessJsonFormatter, JsonFormatter


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("airestaurant.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_record_is_one_json_line_with_its_extras() -> None:
    line = JsonFormatter().format(record("health check failed: %s", "db", error="OperationalError"))
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["level"] == "WARNING"
    assert fields["logger"] == "airestaurant.test"
    assert fields["message"] == "health check failed: db"
    assert fields["error"] == "OperationalError"
    assert fields["time"].endswith("+00:00")


def test_an_exception_is_kept_inside_the_line() -> None:
    try:
        raise RuntimeError("it broke")
    except RuntimeError:
        failed = record("oops")
        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    assert "\n" not in line
    assert "RuntimeError: it broke" in json.loads(line)["exception"]


def test_a_gunicorn_access_record_names_its_fields_and_drops_the_query() -> None:
    atoms = {
        "h": "10.0.0.9", "m": "GET", "U": "/restaurants/", "q": "city=Seoul", "s": "200",
        "B": 512, "D": 2500, "a": "kube-probe/1.31",
    }  # fmt: skip
    access = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(h)s", (atoms,), None)
    fields = json.loads(GunicornAccessJsonFormatter().format(access))
    assert fields["message"] == "request"
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/restaurants/", 200)
    assert (fields["bytes"], fields["duration_ms"]) == (512, 2.5)
    assert fields["remote"] == "10.0.0.9"
    assert "city=Seoul" not in json.dumps(fields)
