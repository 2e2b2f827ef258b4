"""Configuration from the environment: what is accepted, what is refused and how it is said."""

from __future__ import annotations

from pathlib import Path

import pytest
from airestaurant import config
from airestaurant.config import ConfigError

GOOD_KEY = "k" * 20 + "-random-enough-for-tests-" + "z" * 10


def app_env(**values: str) -> dict[str, str]:
    return {"SECRET_KEY": GOOD_KEY, **values}


def test_a_missing_secret_key_is_refused_when_debug_is_off() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        config.load_app_config({})


def test_a_blank_secret_key_counts_as_missing() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        config.load_app_config({"SECRET_KEY": "   ", "DEBUG": "false"})


@pytest.mark.parametrize("placeholder", ["changeme", "CHANGEME", "secret", "your-secret-key"])
def test_a_known_placeholder_secret_key_is_refused(placeholder: str) -> None:
    with pytest.raises(ConfigError, match="known placeholder"):
        config.load_app_config({"SECRET_KEY": placeholder})


def test_a_django_insecure_key_is_refused_even_with_debug_on() -> None:
    key = "django-insecure-" + "x" * 40
    with pytest.raises(ConfigError, match="known placeholder"):
        config.load_app_config({"SECRET_KEY": key, "DEBUG": "true"})


def test_a_short_secret_key_is_refused_without_showing_it() -> None:
    short = "s3cr3t-but-short"
    with pytest.raises(ConfigError, match=r"16 characters long") as refused:
        config.load_app_config({"SECRET_KEY": short})
    assert short not in str(refused.value)


def test_debug_without_a_secret_key_generates_a_throwaway_one() -> None:
    first = config.load_app_config({"DEBUG": "true"})
    second = config.load_app_config({"DEBUG": "true"})
    assert first.debug is True
    assert len(first.secret_key) >= 50
    assert first.secret_key != second.secret_key


def test_defaults_are_debug_off_local_hosts_and_metrics_on() -> None:
    loaded = config.load_app_config(app_env())
    assert loaded.debug is False
    assert loaded.allowed_hosts == ("localhost", "127.0.0.1")
    assert loaded.metrics_enabled is True
    assert loaded.log_level == "INFO"
    assert loaded.list_cache_seconds == 10


def test_allowed_hosts_is_a_comma_separated_list() -> None:
    loaded = config.load_app_config(app_env(ALLOWED_HOSTS=" api.example.org, ,10.0.0.7,"))
    assert loaded.allowed_hosts == ("api.example.org", "10.0.0.7")


@pytest.mark.parametrize(("raw", "expected"), [("yes", True), ("ON", True), ("0", False)])
def test_booleans_accept_the_usual_spellings(raw: str, expected: bool) -> None:
    assert config.env_bool({"DEBUG": raw}, "DEBUG", default=not expected) is expected


def test_a_boolean_that_is_not_one_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"AIRESTAURANT_METRICS_ENABLED='maybe' is not a boolean"):
        config.load_app_config(app_env(AIRESTAURANT_METRICS_ENABLED="maybe"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [("ten", r"'ten' is not an integer"), ("-1", r"-1 is out of range: expected 0..3600")],
)
def test_integers_are_checked_and_named(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"AIRESTAURANT_LIST_CACHE_SECONDS={message}"):
        config.load_app_config(app_env(AIRESTAURANT_LIST_CACHE_SECONDS=raw))


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ConfigError, match="AIRESTAURANT_LOG_LEVEL='LOUD'"):
        config.load_app_config(app_env(AIRESTAURANT_LOG_LEVEL="loud"))


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_a_postgres_url_maps_to_the_instrumented_postgresql_backend(scheme: str) -> None:
    url = f"{scheme}://shop:pa55word@db.internal:6432/airestaurant"
    db = config.load_app_config(app_env(DATABASE_URL=url)).database
    assert db["ENGINE"] == "django_prometheus.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("db.internal", 6432, "airestaurant")
    assert (db["USER"], db["PASSWORD"]) == ("shop", "pa55word")
    assert db["CONN_HEALTH_CHECKS"] is True


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    db = config.load_app_config(app_env(AIRESTAURANT_DATA_DIR=str(tmp_path))).database
    assert db["ENGINE"] == "django_prometheus.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / config.SQLITE_FILE_NAME)


def test_with_metrics_off_the_database_keeps_djangos_own_backend() -> None:
    env = app_env(DATABASE_URL="postgres://u:p@h/db", AIRESTAURANT_METRICS_ENABLED="false")
    assert config.load_app_config(env).database["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2pw@db/app", "only SQLite and PostgreSQL are supported"),
        ("mongodb://root:hunter2pw@db/app", "unsupported scheme 'mongodb'"),
        ("root:hunter2pw@db/app", "unsupported scheme '(none)'"),
    ],
)
def test_an_unsupported_database_url_is_refused_without_its_password(
    url: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=r"DATABASE_URL") as refused:
        config.load_app_config(app_env(DATABASE_URL=url))
    assert message in str(refused.value)
    assert "hunter2pw" not in str(refused.value)


def test_the_sqlite_directory_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    db = config.database({"AIRESTAURANT_DATA_DIR": str(data_dir)}, instrumented=True)
    config.ensure_sqlite_directory(db)
    assert data_dir.is_dir()


def test_an_uncreatable_sqlite_directory_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    db = config.database({"AIRESTAURANT_DATA_DIR": str(blocker / "data")}, instrumented=True)
    with pytest.raises(ConfigError, match="AIRESTAURANT_DATA_DIR"):
        config.ensure_sqlite_directory(db)


def test_in_memory_and_postgres_databases_need_no_directory() -> None:
    memory = config.database({"DATABASE_URL": "sqlite://:memory:"}, instrumented=True)
    postgres = config.database({"DATABASE_URL": "postgres://u:p@h/db"}, instrumented=True)
    assert config.sqlite_directory(memory) is None
    assert config.sqlite_directory(postgres) is None


def test_the_server_defaults_to_one_threaded_worker_on_port_8900() -> None:
    server = config.load_server_config({})
    assert (server.bind, server.workers, server.threads) == ("0.0.0.0:8900", 1, 4)
    assert server.multiprocess_dir is None
    assert server.access_log is True


def test_the_access_log_can_be_switched_off() -> None:
    assert config.load_server_config({"AIRESTAURANT_ACCESS_LOG": "off"}).access_log is False


def test_several_workers_without_multiprocess_mode_are_refused() -> None:
    with pytest.raises(ConfigError, match="AIRESTAURANT_WORKERS=3 needs PROMETHEUS_MULTIPROC_DIR"):
        config.load_server_config({"AIRESTAURANT_WORKERS": "3"})


def test_several_workers_with_a_multiprocess_dir_are_accepted(tmp_path: Path) -> None:
    server = config.load_server_config(
        {"AIRESTAURANT_WORKERS": "3", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    )
    assert (server.workers, server.multiprocess_dir) == (3, tmp_path)
