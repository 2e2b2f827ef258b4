"""Read the service's configuration from environment variables into typed objects.

Pure functions over a mapping (`os.environ` in production, a dict in tests), called once at
start-up by `settings.py` and `gunicorn_conf.py`. Every bad value raises `ConfigError` naming the
variable; the values of SECRET_KEY and DATABASE_URL (it carries the password) never appear in a
message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

DEFAULT_PORT = 8900
# The container listens on the pod's address, so it must bind every interface.
DEFAULT_BIND = f"0.0.0.0:{DEFAULT_PORT}"
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1")
SQLITE_FILE_NAME = "airestaurant.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Paths whose requests the request metrics leave out: the charts' kubelet probes and the
# Prometheus scrape. The one place this default lives; a test fails when the charts probe a
# path that is not in it (tests/integration/test_airestaurant_probes.py).
DEFAULT_METRICS_EXCLUDED_PATHS = ("/healthz", "/metrics")

# Django's engines and the django-prometheus wrappers that time every query
# (django_db_query_duration_seconds exists only with these).
INSTRUMENTED_ENGINES = {
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
}
# Keys copied from tutorials and templates: anyone can forge sessions and signatures with them.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret-key",
        "secret_key",
        "your-secret-key",
        "your_secret_key",
        "django-secret-key",
        "insecure",
        "dev",
        "development",
        "test",
        "password",
        "admin",
    }
)
MIN_SECRET_KEY_LENGTH = 32
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(ImproperlyConfigured):
    """A configuration value is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class AppConfig:
    """What Django's settings need."""

    secret_key: str
    debug: bool
    allowed_hosts: tuple[str, ...]
    database: dict[str, Any]
    metrics_enabled: bool
    metrics_excluded_paths: tuple[str, ...]
    boom_enabled: bool
    log_level: str
    list_cache_seconds: int


@dataclass(frozen=True)
class ServerConfig:
    """What gunicorn needs."""

    bind: str
    workers: int
    threads: int
    multiprocess_dir: Path | None
    log_level: str
    access_log: bool


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not a boolean: use one of true/false, 1/0, yes/no, on/off"
    )


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={value} is out of range: expected {minimum}..{maximum}")
    return value


def log_level(env: Mapping[str, str]) -> str:
    level = env.get("AIRESTAURANT_LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(f"AIRESTAURANT_LOG_LEVEL={level!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def allowed_hosts(env: Mapping[str, str]) -> tuple[str, ...]:
    """ALLOWED_HOSTS as a comma-separated list; blanks between commas are ignored."""
    raw = env.get("ALLOWED_HOSTS")
    if raw is None or not raw.strip():
        return DEFAULT_ALLOWED_HOSTS
    hosts = tuple(host.strip() for host in raw.split(",") if host.strip())
    if any(" " in host for host in hosts):
        raise ConfigError(f"ALLOWED_HOSTS={raw!r}: host names cannot contain spaces")
    return hosts


def metrics_excluded_paths(env: Mapping[str, str]) -> tuple[str, ...]:
    """AIRESTAURANT_METRICS_EXCLUDED_PATHS, comma-separated paths, each starting with '/'."""
    raw = env.get("AIRESTAURANT_METRICS_EXCLUDED_PATHS")
    if raw is None or not raw.strip():
        return DEFAULT_METRICS_EXCLUDED_PATHS
    paths = tuple(path.strip() for path in raw.split(",") if path.strip())
    bad = [path for path in paths if not path.startswith("/") or " " in path]
    if bad:
        raise ConfigError(
            f"AIRESTAURANT_METRICS_EXCLUDED_PATHS: not a path (expected /segment/...): "
            f"{', '.join(bad)}"
        )
    return paths


def secret_key(env: Mapping[str, str], *, debug: bool) -> str:
    """SECRET_KEY from the environment; only DEBUG may fall back to a throwaway key."""
    key = env.get("SECRET_KEY", "").strip()
    if not key:
        if debug:
            # Imported here: it needs nothing from settings, but only DEBUG runs ever use it.
            from django.core.management.utils import get_random_secret_key

            return get_random_secret_key()
        raise ConfigError(
            "SECRET_KEY is not set: it is required when DEBUG is off "
            "(generate one with `python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
            "and pass it from a Kubernetes Secret)"
        )
    if key.lower() in PLACEHOLDER_SECRET_KEYS or key.startswith("django-insecure"):
        raise ConfigError("SECRET_KEY is a known placeholder: set a random value")
    if len(key) < MIN_SECRET_KEY_LENGTH and not debug:
        raise ConfigError(
            f"SECRET_KEY is {len(key)} characters long: use at least {MIN_SECRET_KEY_LENGTH}"
        )
    return key


def default_data_dir() -> Path:
    # Resolved only when needed: a container user without a passwd entry may have no home.
    return Path.home() / ".local" / "share" / "airestaurant"


def database(env: Mapping[str, str], *, instrumented: bool) -> dict[str, Any]:
    """DATABASES['default'] from DATABASE_URL, SQLite in AIRESTAURANT_DATA_DIR by default.

    `instrumented` swaps Django's engine for django-prometheus's wrapper of it.
    """
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        data_dir = Path(env.get("AIRESTAURANT_DATA_DIR", "").strip() or default_data_dir())
        url = f"sqlite:///{data_dir / SQLITE_FILE_NAME}"
    try:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except (ValueError, dj_database_url.UnknownSchemeError):
        scheme = url.split("://", 1)[0] if "://" in url else "(none)"
        raise ConfigError(
            f"DATABASE_URL has an unsupported scheme {scheme!r}: "
            "use sqlite:///<path> or postgres://<user>:<password>@<host>:<port>/<name>"
        ) from None
    engine = db["ENGINE"]
    if engine not in INSTRUMENTED_ENGINES:
        raise ConfigError(
            f"DATABASE_URL selects {engine}: only SQLite and PostgreSQL are supported"
        )
    if instrumented:
        db["ENGINE"] = INSTRUMENTED_ENGINES[engine]
    return db


def sqlite_directory(db: Mapping[str, Any]) -> Path | None:
    """The directory a SQLite database file lives in, or None for other engines and :memory:."""
    if not str(db["ENGINE"]).endswith("sqlite3") or db["NAME"] in ("", ":memory:"):
        return None
    return Path(db["NAME"]).parent


def ensure_sqlite_directory(db: Mapping[str, Any]) -> None:
    """Create the SQLite file's directory (SQLite creates the file but not its directory)."""
    directory = sqlite_directory(db)
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the SQLite directory {directory} ({exc.strerror}): point "
            "AIRESTAURANT_DATA_DIR (or DATABASE_URL) at a writable volume"
        ) from exc


def load_app_config(env: Mapping[str, str]) -> AppConfig:
    debug = env_bool(env, "DEBUG", default=False)
    metrics_enabled = env_bool(env, "AIRESTAURANT_METRICS_ENABLED", default=True)
    return AppConfig(
        secret_key=secret_key(env, debug=debug),
        debug=debug,
        allowed_hosts=allowed_hosts(env),
        database=database(env, instrumented=metrics_enabled),
        metrics_enabled=metrics_enabled,
        metrics_excluded_paths=metrics_excluded_paths(env),
        boom_enabled=env_bool(env, "AIRESTAURANT_BOOM_ENABLED", default=False),
        log_level=log_level(env),
        list_cache_seconds=env_int(
            env, "AIRESTAURANT_LIST_CACHE_SECONDS", 10, minimum=0, maximum=3600
        ),
    )


def load_server_config(env: Mapping[str, str]) -> ServerConfig:
    workers = env_int(env, "AIRESTAURANT_WORKERS", 1, minimum=1, maximum=64)
    raw_dir = env.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    multiprocess_dir = Path(raw_dir) if raw_dir else None
    if workers > 1 and multiprocess_dir is None:
        # Each worker would hold its own counters and a scrape would see one worker at random.
        raise ConfigError(
            f"AIRESTAURANT_WORKERS={workers} needs PROMETHEUS_MULTIPROC_DIR (a writable, empty "
            "directory) so /metrics adds up every worker; or keep 1 worker, raise "
            "AIRESTAURANT_THREADS and scale with replicas"
        )
    return ServerConfig(
        bind=env.get("AIRESTAURANT_BIND", "").strip() or DEFAULT_BIND,
        workers=workers,
        threads=env_int(env, "AIRESTAURANT_THREADS", 4, minimum=1, maximum=64),
        multiprocess_dir=multiprocess_dir,
        log_level=log_level(env),
        access_log=env_bool(env, "AIRESTAURANT_ACCESS_LOG", default=True),
    )
