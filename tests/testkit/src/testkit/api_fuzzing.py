"""Schemathesis as the services' fuzz tests use it: what every answer is held to, and how many
examples, so the relay's and the FastAPI app's runs check the same things the same way."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

# No server error, a documented status, of the documented media type, conforming to the
# documented response schema; schema-valid input accepted, schema-violating input refused.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]


def bounded(max_examples: int) -> settings:
    """A fixed number of examples per operation, derandomized: CI stays deterministic and quick.
    No deadline (a loaded CI machine is slow, not wrong) and no example database (nothing is
    replayed from an earlier run)."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
