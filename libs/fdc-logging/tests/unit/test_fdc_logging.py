"""Every record becomes one JSON line of the same five keys, with secrets redacted."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from fdc_logging import REDACTED, SHAPE, JsonLineFormatter, configure


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("fdc.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure("DEBUG", secrets=["s3cret-token", 'a "quoted" secret'], stream=out)
    yield out
    configure("WARNING")


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_the_five_keys_with_its_extras_under_fields() -> None:
    line = JsonLineFormatter().format(record("check failed: %s", "db", error="OperationalError"))
    assert "\n" not in line
    entry = json.loads(line)
    assert tuple(entry) == SHAPE
    assert (entry["level"], entry["logger"]) == ("warning", "fdc.test")
    assert entry["message"] == "check failed: db"
    assert entry["fields"] == {"error": "OperationalError"}
    assert entry["time"].endswith("+00:00")


def test_an_extra_cannot_overwrite_the_records_own_keys() -> None:
    entry = json.loads(JsonLineFormatter().format(record("real", time="fake", level="fake")))
    assert entry["message"] == "real"
    assert entry["level"] == "warning"
    assert entry["fields"] == {"time": "fake", "level": "fake"}


def test_an_exception_stays_inside_the_line_under_fields() -> None:
    try:
        raise RuntimeError("it broke")
    except RuntimeError:
        failed = record("oops")
        failed.exc_info = sys.exc_info()
    line = JsonLineFormatter().format(failed)
    assert "\n" not in line
    assert "RuntimeError: it broke" in json.loads(line)["fields"]["exception"]


def test_ignored_attributes_are_left_out() -> None:
    entry = json.loads(JsonLineFormatter(ignore=["request"]).format(record("x", request=object())))
    assert entry["fields"] == {}


def test_secrets_are_redacted_in_any_field_and_in_their_json_form(stream: io.StringIO) -> None:
    log = logging.getLogger("fdc.test")
    log.info("token %s", "s3cret-token")
    log.info("nested", extra={"body": {"deep": ["s3cret-token"]}})
    log.info("again %s", 'a "quoted" secret')
    text = stream.getvalue()
    assert "s3cret" not in text
    assert "quoted" not in text
    assert text.count(REDACTED) == 3


def test_configuring_twice_keeps_one_handler(stream: io.StringIO) -> None:
    configure("INFO", stream=stream)
    logging.getLogger("fdc.test").info("once")
    assert len(lines(stream)) == 1


def test_uvicorns_own_handlers_are_routed_through_the_json_one() -> None:
    server = logging.getLogger("uvicorn.error")
    server.addHandler(logging.StreamHandler(io.StringIO()))
    server.propagate = False
    out = io.StringIO()
    try:
        configure("INFO", stream=out)
        server.info("Started server process [%d]", 1)
    finally:
        configure("WARNING")
    [entry] = lines(out)
    assert (entry["logger"], entry["message"]) == ("uvicorn.error", "Started server process [1]")
