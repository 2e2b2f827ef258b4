"""GET /recommendations: filtering through query parameters, and FastAPI's 422s for bad ones."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from fastdining_api.catalogue import RESTAURANTS


def names(response) -> list[str]:
    return [restaurant["name"] for restaurant in response.json()["restaurants"]]


def test_without_parameters_the_ten_best_rated_come_back(client: TestClient):
    response = client.get("/recommendations")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 10 == len(body["restaurants"])
    ratings = [restaurant["rating"] for restaurant in body["restaurants"]]
    assert ratings == sorted(ratings, reverse=True)
    assert ratings[0] == max(r.rating for r in RESTAURANTS)


def test_cuisine_price_and_rating_filters_combine(client: TestClient):
    response = client.get(
        "/recommendations", params={"cuisine": "korean", "max_price": 20, "min_rating": 4}
    )
    assert response.status_code == 200
    assert names(response) == ["Bibim House"]


def test_limit_caps_the_list(client: TestClient):
    response = client.get("/recommendations", params={"limit": 3})
    assert response.json()["count"] == 3


def test_a_filter_nothing_matches_gives_an_empty_list(client: TestClient):
    response = client.get("/recommendations", params={"cuisine": "french", "max_price": 10})
    assert response.status_code == 200
    assert response.json() == {"count": 0, "restaurants": []}


def test_restaurants_carry_every_field(client: TestClient):
    restaurant = client.get("/recommendations", params={"limit": 1}).json()["restaurants"][0]
    assert set(restaurant) == {"name", "cuisine", "price_per_person", "rating"}


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"cuisine": "thai"}, "cuisine"),
        ({"max_price": 0}, "max_price"),
        ({"max_price": 1001}, "max_price"),
        ({"max_price": "cheap"}, "max_price"),
        ({"min_rating": -0.1}, "min_rating"),
        ({"min_rating": 5.5}, "min_rating"),
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"cusine": "korean"}, "cusine"),
    ],
    ids=lambda value: str(value),
)
def test_a_bad_parameter_is_refused_with_422_naming_it(client: TestClient, params, bad):
    response = client.get("/recommendations", params=params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", bad]]


def test_every_bad_parameter_is_reported_at_once(client: TestClient):
    response = client.get("/recommendations", params={"cuisine": "thai", "limit": 99})
    assert response.status_code == 422
    assert sorted(error["loc"][1] for error in response.json()["detail"]) == ["cuisine", "limit"]
