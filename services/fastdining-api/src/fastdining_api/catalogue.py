"""The built-in restaurant catalogue and the pure function that picks recommendations."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Cuisine(StrEnum):
    KOREAN = "korean"
    JAPANESE = "japanese"
    ITALIAN = "italian"
    MEXICAN = "mexican"
    INDIAN = "indian"
    FRENCH = "french"


class Restaurant(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    cuisine: Cuisine
    price_per_person: int = Field(description="Typical bill per person, in euros.")
    rating: float = Field(ge=0, le=5)


class RecommendationQuery(BaseModel):
    """What a caller may ask for; unknown parameters are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cuisine: Cuisine | None = Field(None, description="Only this cuisine.")
    max_price: int | None = Field(
        None, ge=1, le=1000, description="Highest price per person, in euros."
    )
    min_rating: float = Field(0.0, ge=0, le=5, description="Lowest rating, 0 to 5.")
    limit: int = Field(10, ge=1, le=50, description="Most restaurants to return.")


RESTAURANTS: tuple[Restaurant, ...] = (
    Restaurant(name="Bibim House", cuisine=Cuisine.KOREAN, price_per_person=14, rating=4.6),
    Restaurant(name="Seoul Grill", cuisine=Cuisine.KOREAN, price_per_person=32, rating=4.3),
    Restaurant(name="Tofu Alley", cuisine=Cuisine.KOREAN, price_per_person=11, rating=3.9),
    Restaurant(name="Sushi Kaze", cuisine=Cuisine.JAPANESE, price_per_person=55, rating=4.8),
    Restaurant(name="Ramen Ichi", cuisine=Cuisine.JAPANESE, price_per_person=16, rating=4.4),
    Restaurant(name="Trattoria Sole", cuisine=Cuisine.ITALIAN, price_per_person=28, rating=4.2),
    Restaurant(name="Pizza Forno", cuisine=Cuisine.ITALIAN, price_per_person=15, rating=4.0),
    Restaurant(name="Taqueria Luna", cuisine=Cuisine.MEXICAN, price_per_person=12, rating=4.5),
    Restaurant(name="Casa Verde", cuisine=Cuisine.MEXICAN, price_per_person=24, rating=3.7),
    Restaurant(name="Masala Street", cuisine=Cuisine.INDIAN, price_per_person=18, rating=4.1),
    Restaurant(name="Tandoor Palace", cuisine=Cuisine.INDIAN, price_per_person=35, rating=4.7),
    Restaurant(name="Le Petit Zinc", cuisine=Cuisine.FRENCH, price_per_person=48, rating=4.4),
    Restaurant(name="Bistro Verre", cuisine=Cuisine.FRENCH, price_per_person=85, rating=4.9),
)


def recommend(
    query: RecommendationQuery, restaurants: Iterable[Restaurant] = RESTAURANTS
) -> list[Restaurant]:
    """Restaurants matching `query`, best rated first, then cheapest, then by name."""
    matches = [
        restaurant
        for restaurant in restaurants
        if (query.cuisine is None or restaurant.cuisine == query.cuisine)
        and (query.max_price is None or restaurant.price_per_person <= query.max_price)
        and restaurant.rating >= query.min_rating
    ]
    matches.sort(key=lambda r: (-r.rating, r.price_per_person, r.name))
    return matches[: query.limit]
