"""`seed_demo`: write the demo restaurants; running it again changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from airestaurant.restaurants.demo_data import DEMO_RESTAURANTS
from airestaurant.restaurants.models import Restaurant


class Command(BaseCommand):
    help = "Create or update the demo restaurants (idempotent: matched by name)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = updated = unchanged = 0
        with transaction.atomic():
            for demo in DEMO_RESTAURANTS:
                fields = {key: value for key, value in demo.items() if key != "name"}
                restaurant, was_created = Restaurant.objects.get_or_create(
                    name=demo["name"], defaults=fields
                )
                if was_created:
                    created += 1
                    continue
                changed = [
                    key for key, value in fields.items() if getattr(restaurant, key) != value
                ]
                if not changed:
                    unchanged += 1
                    continue
                for key in changed:
                    setattr(restaurant, key, fields[key])
                restaurant.full_clean()
                restaurant.save(update_fields=changed)
                updated += 1
        self.stdout.write(
            f"demo restaurants: {created} created, {updated} updated, {unchanged} unchanged"
        )
