"""The restaurant list's query parameters: validated, or refused with the reason per parameter."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from airestaurant.restaurants.models import (
    DB_INTEGER_MAX,
    MAX_PRICE_LEVEL,
    MAX_RATING,
    MIN_PRICE_LEVEL,
    MIN_RATING,
    Cuisine,
    Restaurant,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class RestaurantFilterForm(forms.Form):
    cuisine = forms.ChoiceField(choices=Cuisine.choices, required=False)
    city = forms.CharField(max_length=80, required=False, strip=True)
    min_rating = forms.DecimalField(
        min_value=MIN_RATING, max_value=MAX_RATING, decimal_places=1, required=False
    )
    max_price_level = forms.IntegerField(
        min_value=MIN_PRICE_LEVEL, max_value=MAX_PRICE_LEVEL, required=False
    )
    limit = forms.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)
    offset = forms.IntegerField(min_value=0, max_value=DB_INTEGER_MAX, required=False)


@dataclass(frozen=True)
class RestaurantFilters:
    cuisine: str | None = None
    city: str | None = None
    min_rating: Decimal | None = None
    max_price_level: int | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def apply(self, restaurants: QuerySet[Restaurant]) -> QuerySet[Restaurant]:
        """The matching restaurants, before paging."""
        if self.cuisine is not None:
            restaurants = restaurants.filter(cuisine=self.cuisine)
        if self.city is not None:
            restaurants = restaurants.filter(city__iexact=self.city)
        if self.min_rating is not None:
            restaurants = restaurants.filter(rating__gte=self.min_rating)
        if self.max_price_level is not None:
            restaurants = restaurants.filter(price_level__lte=self.max_price_level)
        return restaurants

    def cache_key(self) -> str:
        return "restaurants:list:" + ":".join(
            f"{name}={value}" for name, value in sorted(vars(self).items())
        )


class InvalidFilters(ValueError):
    """The query string cannot be used; `errors` maps each parameter to its problems."""

    def __init__(self, errors: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__(f"invalid parameters: {', '.join(sorted(errors))}")
        self.errors = errors


def parse_filters(query: QueryDict) -> RestaurantFilters:
    """Filters from a query string; unknown, repeated or invalid parameters raise InvalidFilters."""
    form = RestaurantFilterForm(query)
    errors: dict[str, list[dict[str, Any]]] = {}
    for name in query:
        if name not in form.fields:
            errors[name] = [
                {
                    "message": f"Unknown parameter; expected one of {', '.join(form.fields)}.",
                    "code": "unknown",
                }
            ]
        elif len(query.getlist(name)) > 1:
            errors[name] = [{"message": "Give this parameter once.", "code": "repeated"}]
    if not form.is_valid():
        errors.update(form.errors.get_json_data())
    if errors:
        raise InvalidFilters(errors)
    values = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    return RestaurantFilters(**values)
