"""Query strings as an attacker or a broken client writes them: never a 5xx.

The regression (issue 15): `?offset=9223372036854775808` reached SQLite, which answered with a
datatype mismatch, a 500. Every numeric parameter is now bounded by what the database holds and
refused with a 400 naming it. A seeded, bounded Hypothesis fuzzer then covers what no schema
describes: huge and negative numbers, repeated parameters, non-ASCII and invalid percent-encoded
UTF-8, unknown names; and any path under /restaurants/ with any method.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from airestaurant.restaurants.filters import RestaurantFilterForm
from airestaurant.restaurants.models import DB_INTEGER_MAX, Cuisine, Restaurant
from django import forms
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NUMERIC = [
    name
    for name, field in RestaurantFilterForm.base_fields.items()
    if isinstance(field, forms.IntegerField | forms.DecimalField)
]
PAST_THE_DATABASE = [DB_INTEGER_MAX + 1, -DB_INTEGER_MAX - 2, 10**40, -(10**40)]


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def seeded(db: None) -> None:
    """A few restaurants, so that filters and pages have something to cut."""
    for number, cuisine in enumerate(Cuisine.values):
        Restaurant.objects.create(
            name=f"Fuzz {number}",
            cuisine=cuisine,
            city="Seoul" if number % 2 else "Busan",
            rating=Decimal(number % 6),
            price_level=1 + number % 4,
        )


def get(client: Client, query: str) -> tuple[int, Any]:
    response = client.get(f"/restaurants/?{query}")
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.status_code, response.json()


def test_every_numeric_parameter_is_found() -> None:
    assert set(NUMERIC) >= {"offset", "limit", "max_price_level", "min_rating"}


@pytest.mark.parametrize("number", PAST_THE_DATABASE)
@pytest.mark.parametrize("name", NUMERIC)
def test_a_number_past_the_database_range_is_a_400_naming_the_parameter(
    client: Client, seeded: None, name: str, number: int
) -> None:
    status, body = get(client, f"{name}={number}")
    assert status == 400, body
    assert list(body["fields"]) == [name]
    assert name in body["detail"]


def test_the_largest_offset_the_database_holds_is_an_empty_page(
    client: Client, seeded: None
) -> None:
    status, body = get(client, f"offset={DB_INTEGER_MAX}")
    assert (status, body["offset"], body["results"]) == (200, DB_INTEGER_MAX, [])


def test_an_id_past_the_database_range_is_not_found(client: Client, seeded: None) -> None:
    response = client.get(f"/restaurants/{10**30}/")
    assert response.status_code == 404
    assert response.json()["error"] == "not found"


NAMES = st.sampled_from([*RestaurantFilterForm.base_fields, "colour", "", "ofFset", "ö"])
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([DB_INTEGER_MAX, DB_INTEGER_MAX + 1, -1, 0, 2**31, 2**32, 2**64]),
).map(str)
TEXT = st.one_of(
    NUMBERS,
    st.text(max_size=30),
    # The last two: an Arabic-Indic three and a fullwidth one, digits Python's int() reads.
    st.sampled_from(
        ["1e999999", "NaN", "-Infinity", "0x10", "1_000", " 7 ", "4.", "\u0663", "\uff11"]
    ),
    st.floats(allow_nan=True).map(str),
)
# Percent-encoded bytes that are no UTF-8 at all, or a lone surrogate's encoded form.
RAW = st.one_of(
    st.binary(max_size=12).map(lambda raw: quote(raw, safe="")),
    st.just("%ED%A0%80"),
    st.just("%FF%FE"),
)
PAIRS = st.lists(st.tuples(NAMES, TEXT | RAW), max_size=6)


# Seeded and bounded: the same examples on every run.
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(pairs=PAIRS, raw=st.booleans())
def test_any_query_string_gets_a_200_or_a_400_naming_each_bad_parameter(
    client: Client, seeded: None, pairs: list[tuple[str, str]], raw: bool
) -> None:
    # raw: the values as they come (already percent-encoded or not), else encoded once more.
    query = "&".join(f"{quote(name)}={value}" for name, value in pairs) if raw else urlencode(pairs)
    status, body = get(client, query)
    assert status in (200, 400), body
    if status == 400:
        assert body["error"] == "invalid query parameters"
        assert body["fields"], "a 400 names what it refused"
        for name in body["fields"]:
            assert name in body["detail"]
    else:
        assert 0 <= body["offset"] <= DB_INTEGER_MAX
        assert 1 <= body["limit"] <= 100


@settings(FUZZ, max_examples=150)
@given(
    segment=st.integers().map(str) | st.text(max_size=20).map(lambda text: quote(text, safe="")),
    method=st.sampled_from(["get", "head", "post", "delete"]),
)
def test_any_restaurant_path_gets_an_answer_and_never_a_5xx(
    client: Client, seeded: None, segment: str, method: str
) -> None:
    response = getattr(client, method)(f"/restaurants/{segment}/")
    assert response.status_code in (200, 404, 405), response.content[:200]
    if method in ("post", "delete"):
        assert response.status_code in (404, 405), "read-only: never changed by a request"
