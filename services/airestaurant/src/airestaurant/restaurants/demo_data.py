"""The demo restaurants `seed_demo` writes: enough spread to make every filter mean something."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from airestaurant.restaurants.models import Cuisine

_ROWS: tuple[tuple[str, Cuisine, str, str, int], ...] = (
    # name, cuisine, city, rating, price level
    ("Bibim House", Cuisine.KOREAN, "Seoul", "4.6", 2),
    ("Gangnam Grill", Cuisine.KOREAN, "Seoul", "4.2", 3),
    ("Busan Sea Table", Cuisine.KOREAN, "Busan", "4.8", 3),
    ("Sushi Aoi", Cuisine.JAPANESE, "Seoul", "4.7", 4),
    ("Ramen Kaze", Cuisine.JAPANESE, "Busan", "4.1", 1),
    ("Golden Dumpling", Cuisine.CHINESE, "Incheon", "3.9", 1),
    ("Trattoria Sole", Cuisine.ITALIAN, "Seoul", "4.4", 3),
    ("Le Petit Bistro", Cuisine.FRENCH, "Seoul", "4.5", 4),
    ("Taqueria Luna", Cuisine.MEXICAN, "Busan", "3.8", 2),
    ("Spice Route", Cuisine.INDIAN, "Incheon", "4.3", 2),
    ("Bangkok Street", Cuisine.THAI, "Seoul", "4.0", 1),
    ("Liberty Diner", Cuisine.AMERICAN, "Daegu", "3.6", 2),
)

DEMO_RESTAURANTS: tuple[dict[str, Any], ...] = tuple(
    {
        "name": name,
        "cuisine": cuisine,
        "city": city,
        "rating": Decimal(rating),
        "price_level": price_level,
    }
    for name, cuisine, city, rating, price_level in _ROWS
)
