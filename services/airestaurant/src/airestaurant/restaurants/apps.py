from django.apps import AppConfig


class RestaurantsConfig(AppConfig):
    name = "airestaurant.restaurants"
    label = "restaurants"
    default_auto_field = "django.db.models.BigAutoField"
