"""AIRestaurant: a small Django site, instrumented with django-prometheus."""
