"""Django for the unit tests: settings from a fixed test environment, a test database, isolation.

The environment is applied only while Django reads its settings, then restored, so other
components' tests in the same pytest run never see this service's SECRET_KEY or DATABASE_URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import django
import pytest

# Long enough for config.MIN_SECRET_KEY_LENGTH, and used by tests only.
TEST_SECRET_KEY = "unit-tests-only-0123456789-abcdefghijklmnopqrstuvwxyz"
UNIT_TEST_ENV = {
    "DJANGO_SETTINGS_MODULE": "airestaurant.settings",
    "SECRET_KEY": TEST_SECRET_KEY,
    "DEBUG": "false",
    "DATABASE_URL": "sqlite://:memory:",
    "ALLOWED_HOSTS": "localhost",
    "AIRESTAURANT_METRICS_ENABLED": "true",
    "AIRESTAURANT_BOOM_ENABLED": "true",
    "AIRESTAURANT_LIST_CACHE_SECONDS": "10",
    "AIRESTAURANT_LOG_LEVEL": "WARNING",
}


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


with environment(UNIT_TEST_ENV):
    django.setup()

# Imported after setup: these modules need the app registry.
from django.core.cache import cache  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)


@pytest.fixture(scope="session", autouse=True)
def django_test_database() -> Iterator[None]:
    """Django's test environment and a migrated in-memory database for the session."""
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(old_config, verbosity=0)
    teardown_test_environment()


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    cache.clear()


@pytest.fixture
def db() -> Iterator[None]:
    """Every write a test makes is rolled back when it ends."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
