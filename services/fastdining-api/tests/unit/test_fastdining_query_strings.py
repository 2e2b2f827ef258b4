"""Query strings as an attacker or a broken client writes them: never a 5xx (issue 15).

Every numeric parameter is bounded (the catalogue's own ranges, far inside any integer type) and
a number past them, however large, is a 422 naming it. A seeded, bounded Hypothesis fuzzer adds
what the OpenAPI spec does not describe: repeated parameters, non-ASCII and invalid
percent-encoded UTF-8, numbers of any size and spelling.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from fastdining_api.catalogue import RecommendationQuery
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NUMERIC = [
    name
    for name, field in RecommendationQuery.model_fields.items()
    if field.annotation in (int, float, int | None, float | None)
]


def test_every_numeric_parameter_is_found() -> None:
    assert set(NUMERIC) == {"max_price", "min_rating", "limit"}


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 10**400, "1e309", "-1e309", "nan"])
@pytest.mark.parametrize("name", NUMERIC)
def test_a_number_past_any_range_is_a_422_naming_the_parameter(
    client: TestClient, name: str, number: object
) -> None:
    response = client.get(f"/recommendations?{name}={number}")
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", name]]


NAMES = st.sampled_from([*RecommendationQuery.model_fields, "colour", "", "ö"])
VALUES = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
    st.text(max_size=20).map(lambda text: quote(text, safe="")),
    st.binary(max_size=8).map(lambda raw: quote(raw, safe="")),
    st.sampled_from(["%ED%A0%80", "%FF", "1e999999", "\u0663", "\uff11", " 7 ", "0x10"]),
)


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pairs=st.lists(st.tuples(NAMES, VALUES), max_size=6))
def test_any_query_string_gets_a_200_or_a_422(
    client: TestClient, pairs: list[tuple[str, str]]
) -> None:
    query = "&".join(f"{quote(name)}={value}" for name, value in pairs)
    response = client.get(f"/recommendations?{query}")
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert 0 <= response.json()["count"] <= 50
    else:
        assert all(error["loc"][0] == "query" for error in response.json()["detail"])
