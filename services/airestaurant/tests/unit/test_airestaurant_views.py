"""Every view through Django's test client, with the real middleware and an in-memory database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from airestaurant import service_views
from airestaurant.restaurants.demo_data import DEMO_RESTAURANTS
from airestaurant.restaurants.models import Cuisine, Restaurant
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def seeded(db: None) -> None:
    call_command("seed_demo", stdout=_Discard())


class _Discard:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def get_json(client: Client, path: str, status: int) -> Any:
    response = client.get(path)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_ping_answers_without_the_database(client: Client) -> None:
    assert get_json(client, "/ping", 200) == {"pong": True}


def test_healthz_runs_a_query_and_reports_ok(client: Client, db: None) -> None:
    assert get_json(client, "/healthz", 200) == {"status": "ok", "database": "ok"}


def test_boom_is_an_intentional_json_500(client: Client) -> None:
    body = get_json(client, "/boom/", 500)
    assert body["error"] == "intentional failure"


def test_the_list_returns_every_restaurant_in_name_order(client: Client, seeded: None) -> None:
    body = get_json(client, "/restaurants/", 200)
    names = [restaurant["name"] for restaurant in body["results"]]
    assert body["count"] == len(DEMO_RESTAURANTS)
    assert names == sorted(demo["name"] for demo in DEMO_RESTAURANTS)
    assert set(body["results"][0]) == {
        "id", "name", "cuisine", "city", "rating", "price_level", "created_at",
    }  # fmt: skip


def test_the_cuisine_filter_keeps_only_that_cuisine(client: Client, seeded: None) -> None:
    body = get_json(client, "/restaurants/?cuisine=korean", 200)
    expected = sum(1 for demo in DEMO_RESTAURANTS if demo["cuisine"] == Cuisine.KOREAN)
    assert body["count"] == expected > 0
    assert {restaurant["cuisine"] for restaurant in body["results"]} == {"korean"}


def test_filters_combine(client: Client, seeded: None) -> None:
    body = get_json(client, "/restaurants/?city=SEOUL&min_rating=4.5&max_price_level=3", 200)
    expected = {
        demo["name"]
        for demo in DEMO_RESTAURANTS
        if demo["city"] == "Seoul" and demo["rating"] >= Decimal("4.5") and demo["price_level"] <= 3
    }
    assert {restaurant["name"] for restaurant in body["results"]} == expected
    assert expected


def test_limit_and_offset_page_through_the_list(client: Client, seeded: None) -> None:
    everything = get_json(client, "/restaurants/?limit=100", 200)["results"]
    page = get_json(client, "/restaurants/?limit=3&offset=2", 200)
    assert (page["limit"], page["offset"], page["count"]) == (3, 2, len(DEMO_RESTAURANTS))
    assert page["results"] == everything[2:5]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("cuisine=klingon", "cuisine", "invalid_choice"),
        ("min_rating=5.5", "min_rating", "max_value"),
        ("min_rating=high", "min_rating", "invalid"),
        ("max_price_level=0", "max_price_level", "min_value"),
        ("limit=1000", "limit", "max_value"),
        ("offset=-1", "offset", "min_value"),
        ("cuisine=korean&cuisine=thai", "cuisine", "repeated"),
        ("colour=red", "colour", "unknown"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(
    client: Client, db: None, query: str, field: str, code: str
) -> None:
    body = get_json(client, f"/restaurants/?{query}", 400)
    assert body["error"] == "invalid query parameters"
    assert field in body["detail"]
    assert [problem["code"] for problem in body["fields"][field]] == [code]


def test_every_bad_filter_is_reported_at_once(client: Client, db: None) -> None:
    body = get_json(client, "/restaurants/?cuisine=klingon&limit=0&colour=red", 400)
    assert set(body["fields"]) == {"cuisine", "limit", "colour"}


def test_the_list_is_cached_for_a_while(client: Client, seeded: None) -> None:
    before = get_json(client, "/restaurants/?cuisine=thai", 200)["count"]
    Restaurant.objects.create(
        name="Late Thai", cuisine=Cuisine.THAI, city="Seoul", rating=Decimal("4.0"), price_level=1
    )
    # The same filters, spelled differently, share one cache entry; other filters do not.
    assert get_json(client, "/restaurants/?cuisine=thai", 200)["count"] == before
    assert get_json(client, "/restaurants/?limit=20&cuisine=thai", 200)["count"] == before
    assert get_json(client, "/restaurants/?cuisine=thai&limit=50", 200)["count"] == before + 1


@override_settings(LIST_CACHE_SECONDS=0)
def test_a_zero_cache_time_always_reads_the_database(client: Client, seeded: None) -> None:
    before = get_json(client, "/restaurants/", 200)["count"]
    Restaurant.objects.create(
        name="Fresh Bistro",
        cuisine=Cuisine.FRENCH,
        city="Busan",
        rating=Decimal("3.0"),
        price_level=2,
    )
    assert get_json(client, "/restaurants/", 200)["count"] == before + 1


def test_the_detail_view_returns_one_restaurant(client: Client, seeded: None) -> None:
    restaurant = Restaurant.objects.get(name="Sushi Aoi")
    body = get_json(client, f"/restaurants/{restaurant.pk}/", 200)
    assert body == {
        "id": restaurant.pk,
        "name": "Sushi Aoi",
        "cuisine": "japanese",
        "city": "Seoul",
        "rating": 4.7,
        "price_level": 4,
        "created_at": restaurant.created_at.isoformat(),
    }


def test_an_unknown_restaurant_is_a_json_404(client: Client, db: None) -> None:
    body = get_json(client, "/restaurants/987654/", 404)
    assert body == {"error": "not found", "detail": "no restaurant with id 987654"}


def test_an_unknown_route_is_a_json_404(client: Client) -> None:
    body = get_json(client, "/restaurants/not-a-number/", 404)
    assert body == {"error": "not found", "detail": "no route for /restaurants/not-a-number/"}


def test_only_reads_are_allowed(client: Client, db: None) -> None:
    assert client.post("/restaurants/", {"name": "x"}).status_code == 405
    assert client.delete("/restaurants/1/").status_code == 405


def test_an_unhandled_error_becomes_a_json_500() -> None:
    response = service_views.server_error(RequestFactory().get("/anything"))
    assert response.status_code == 500
    assert response.content == b'{"error": "internal server error"}'


def test_metrics_are_served_in_the_prometheus_text_format(client: Client) -> None:
    client.get("/ping")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b'view="ping"' in response.content
