"""recommend(): the pure filter behind /recommendations."""

from __future__ import annotations

from fastdining_api.catalogue import (
    RESTAURANTS,
    Cuisine,
    RecommendationQuery,
    Restaurant,
    recommend,
)
from hypothesis import given
from hypothesis import strategies as st

queries = st.builds(
    RecommendationQuery,
    cuisine=st.none() | st.sampled_from(Cuisine),
    max_price=st.none() | st.integers(1, 1000),
    min_rating=st.floats(0, 5),
    limit=st.integers(1, 50),
)


def matches(query: RecommendationQuery, restaurant: Restaurant) -> bool:
    return (
        query.cuisine in (None, restaurant.cuisine)
        and (query.max_price is None or restaurant.price_per_person <= query.max_price)
        and restaurant.rating >= query.min_rating
    )


@given(queries)
def test_every_pick_matches_the_query(query: RecommendationQuery):
    assert all(matches(query, restaurant) for restaurant in recommend(query))


@given(queries)
def test_no_match_is_lost_below_the_limit(query: RecommendationQuery):
    everything = recommend(query.model_copy(update={"limit": 50}))
    assert recommend(query) == everything[: query.limit]
    assert {r.name for r in everything} == {r.name for r in RESTAURANTS if matches(query, r)}


def test_best_rated_first_then_cheapest():
    picks = recommend(RecommendationQuery(limit=50))
    keys = [(-r.rating, r.price_per_person, r.name) for r in picks]
    assert keys == sorted(keys)
    assert picks[0].name == "Bistro Verre"


def test_every_cuisine_has_restaurants():
    assert {r.cuisine for r in RESTAURANTS} == set(Cuisine)
