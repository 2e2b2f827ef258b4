"""gunicorn's access records in the shared JSON line shape, their fields spelled out.

The shape itself (and exceptions inside the line) is fdc_logging's: libs/fdc-logging/tests.
"""

from __future__ import annotations

import json
import logging

from airestaurant.logs import GunicornAccessFormatter, django_logging
from fdc_logging import SHAPE


def test_a_gunicorn_access_record_names_its_fields_and_drops_the_query() -> None:
    atoms = {
        "h": "10.0.0.9", "m": "GET", "U": "/restaurants/", "q": "city=Seoul", "s": "200",
        "B": 512, "D": 2500, "a": "kube-probe/1.31",
    }  # fmt: skip
    access = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(h)s", (atoms,), None)
    entry = json.loads(GunicornAccessFormatter().format(access))
    assert tuple(entry) == SHAPE
    assert entry["message"] == "request"
    fields = entry["fields"]
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/restaurants/", 200)
    assert (fields["bytes"], fields["duration_ms"]) == (512, 2.5)
    assert fields["remote"] == "10.0.0.9"
    assert "city=Seoul" not in json.dumps(fields)


def test_djangos_request_objects_stay_out_of_the_line() -> None:
    [formatter] = django_logging("INFO")["formatters"].values()
    made = formatter["()"](ignore=formatter["ignore"])
    record = logging.LogRecord("django.request", logging.ERROR, "", 0, "boom", (), None)
    record.request = object()
    record.status_code = 500
    assert json.loads(made.format(record))["fields"] == {"status_code": 500}
