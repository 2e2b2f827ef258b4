"""`seed_demo` writes the demo data once, repairs edits, and never duplicates."""

from __future__ import annotations

import io
from decimal import Decimal

from airestaurant.restaurants.demo_data import DEMO_RESTAURANTS
from airestaurant.restaurants.models import Restaurant
from django.core.management import call_command

DEMO_COUNT = len(DEMO_RESTAURANTS)


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue().strip()


def test_seeding_an_empty_database_creates_every_demo_restaurant(db: None) -> None:
    assert seed() == f"demo restaurants: {DEMO_COUNT} created, 0 updated, 0 unchanged"
    assert set(Restaurant.objects.values_list("name", flat=True)) == {
        demo["name"] for demo in DEMO_RESTAURANTS
    }


def test_seeding_twice_changes_nothing(db: None) -> None:
    seed()
    first = list(Restaurant.objects.values())
    assert seed() == f"demo restaurants: 0 created, 0 updated, {DEMO_COUNT} unchanged"
    assert list(Restaurant.objects.values()) == first


def test_seeding_restores_an_edited_demo_restaurant_and_keeps_other_rows(db: None) -> None:
    seed()
    Restaurant.objects.filter(name="Ramen Kaze").update(rating=Decimal("1.0"), city="Jeju")
    Restaurant.objects.create(
        name="Not A Demo", cuisine="thai", city="Seoul", rating=Decimal("3.3"), price_level=1
    )
    assert seed() == f"demo restaurants: 0 created, 1 updated, {DEMO_COUNT - 1} unchanged"
    ramen = Restaurant.objects.get(name="Ramen Kaze")
    assert (ramen.rating, ramen.city) == (Decimal("4.1"), "Busan")
    assert Restaurant.objects.filter(name="Not A Demo").exists()
