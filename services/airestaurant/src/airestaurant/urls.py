from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from airestaurant import service_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("ping", service_views.ping, name="ping"),
    path("healthz", service_views.healthz, name="healthz"),
    path("restaurants/", include("airestaurant.restaurants.urls")),
]
if settings.BOOM_ENABLED:
    # Off unless AIRESTAURANT_BOOM_ENABLED=true (the umbrella's demo values): in any other
    # install, anyone could drive the error-rate SLO into paging at will.
    urlpatterns.append(path("boom/", service_views.boom, name="boom"))
if settings.METRICS_ENABLED:
    # GET /metrics, view name "prometheus-django-metrics".
    urlpatterns.append(path("", include("django_prometheus.urls")))

handler404 = "airestaurant.service_views.not_found"
handler500 = "airestaurant.service_views.server_error"
