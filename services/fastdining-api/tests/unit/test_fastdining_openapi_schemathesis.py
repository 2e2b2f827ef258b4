"""Schemathesis against the FastDining API's OpenAPI spec, in-process (ASGI).

Every operation but /boom (a 500 on purpose) gets generated query strings, valid ones and
(negative mode) ones that break the schema: out-of-range numbers, wrong types, unknown values.
Every answer must be no server error, a documented status, of the documented media type, and
conform to the documented response schema; schema-violating input must be refused (422).
Bounded and derandomized, so CI is deterministic and quick.
"""

from __future__ import annotations

import schemathesis
from fastdining_api.app import create_app
from fastdining_api.config import Settings
from testkit.api_fuzzing import CHECKS, bounded

APP = create_app(Settings(metrics_enabled=True, metrics_path="/metrics"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path="/boom")


@schema.parametrize()
@bounded(max_examples=60)
def test_every_fastdining_operation_answers_as_its_spec_says(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
