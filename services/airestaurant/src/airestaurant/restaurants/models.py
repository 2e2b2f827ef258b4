"""The one resource this site serves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_prometheus.models import ExportModelOperationsMixin

MIN_RATING = Decimal("0.0")
MAX_RATING = Decimal("5.0")
MIN_PRICE_LEVEL = 1
MAX_PRICE_LEVEL = 4
# The largest integer every supported database holds in a query: SQLite's INTEGER and
# PostgreSQL's bigint (ids here are BigAutoField; LIMIT and OFFSET take a bigint). A number past
# it is refused as a bad parameter (400), never sent to the database (a 500 there).
DB_INTEGER_MAX = 2**63 - 1


class Cuisine(models.TextChoices):
    KOREAN = "korean", "Korean"
    JAPANESE = "japanese", "Japanese"
    CHINESE = "chinese", "Chinese"
    ITALIAN = "italian", "Italian"
    FRENCH = "french", "French"
    MEXICAN = "mexican", "Mexican"
    INDIAN = "indian", "Indian"
    THAI = "thai", "Thai"
    AMERICAN = "american", "American"


# The mixin counts inserts, updates and deletes in django_model_*_total{model="restaurant"}.
class Restaurant(ExportModelOperationsMixin("restaurant"), models.Model):  # type: ignore[misc]
    name = models.CharField(max_length=120, unique=True)
    cuisine = models.CharField(max_length=20, choices=Cuisine.choices, db_index=True)
    city = models.CharField(max_length=80, db_index=True)
    rating = models.DecimalField(
        max_digits=2,
        decimal_places=1,
        validators=[MinValueValidator(MIN_RATING), MaxValueValidator(MAX_RATING)],
    )
    price_level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_PRICE_LEVEL), MaxValueValidator(MAX_PRICE_LEVEL)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING),
                name="restaurant_rating_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    price_level__gte=MIN_PRICE_LEVEL, price_level__lte=MAX_PRICE_LEVEL
                ),
                name="restaurant_price_level_in_range",
            ),
        )

    def __str__(self) -> str:
        return self.name

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "name": self.name,
            "cuisine": self.cuisine,
            "city": self.city,
            "rating": float(self.rating),
            "price_level": self.price_level,
            "created_at": self.created_at.isoformat(),
        }
