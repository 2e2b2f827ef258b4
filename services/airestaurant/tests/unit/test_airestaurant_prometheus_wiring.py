"""django-prometheus is wired in (request metrics, DB and cache backends, /metrics), with the
buckets the alert rules rely on."""

from __future__ import annotations

import django_prometheus.conf
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.urls import resolve
from sloalert.exporters import DJANGO_LATENCY_BUCKETS, DJANGO_METRICS_VIEW


def test_latency_buckets_equal_the_catalogue() -> None:
    assert settings.PROMETHEUS_LATENCY_BUCKETS == DJANGO_LATENCY_BUCKETS


def test_django_prometheus_reads_our_buckets() -> None:
    # It reads the setting once, at import: this fails if settings were not ready by then.
    assert django_prometheus.conf.PROMETHEUS_LATENCY_BUCKETS == DJANGO_LATENCY_BUCKETS


def test_our_request_middleware_runs_last_in_place_of_the_librarys() -> None:
    assert settings.MIDDLEWARE[-1] == "airestaurant.request_metrics.RequestMetricsMiddleware"
    assert not [name for name in settings.MIDDLEWARE if name.startswith("django_prometheus")]
    assert "django_prometheus" in settings.INSTALLED_APPS


def test_the_database_and_cache_are_the_instrumented_backends() -> None:
    assert type(connections["default"]).__module__ == "django_prometheus.db.backends.sqlite3.base"
    assert type(caches["default"]).__module__ == "django_prometheus.cache.backends.locmem"


def test_metrics_is_served_by_the_view_the_rules_exclude() -> None:
    assert resolve("/metrics").view_name == DJANGO_METRICS_VIEW
