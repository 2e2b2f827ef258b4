"""JSON views over restaurants: a filtered list and one restaurant by id."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from airestaurant.responses import json_error
from airestaurant.restaurants.filters import InvalidFilters, RestaurantFilters, parse_filters
from airestaurant.restaurants.models import Restaurant


@require_safe
def restaurant_list(request: HttpRequest) -> JsonResponse:
    try:
        filters = parse_filters(request.GET)
    except InvalidFilters as exc:
        return json_error(400, "invalid query parameters", str(exc), fields=exc.errors)
    if settings.LIST_CACHE_SECONDS == 0:
        return JsonResponse(list_page(filters))
    # A page is always a non-empty dict, so a cache miss (None) cannot be mistaken for a page.
    page = cache.get(filters.cache_key())
    if page is None:
        page = list_page(filters)
        cache.set(filters.cache_key(), page, timeout=settings.LIST_CACHE_SECONDS)
    return JsonResponse(page)


def list_page(filters: RestaurantFilters) -> dict[str, Any]:
    matching = filters.apply(Restaurant.objects.all())
    window = matching[filters.offset : filters.offset + filters.limit]
    return {
        "count": matching.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "results": [restaurant.as_json() for restaurant in window],
    }


@require_safe
def restaurant_detail(request: HttpRequest, restaurant_id: int) -> JsonResponse:
    restaurant = Restaurant.objects.filter(pk=restaurant_id).first()
    if restaurant is None:
        return json_error(404, "not found", f"no restaurant with id {restaurant_id}")
    return JsonResponse(restaurant.as_json())
