"""`sloalert-operator`: read the settings, set up logging, run kopf with the handlers."""

from __future__ import annotations

import sys

import kopf

from sloalert.operator import handlers  # noqa: F401 - importing registers the kopf handlers
from sloalert.operator.settings import SettingsError, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"sloalert-operator: {exc}")
    kopf.configure(
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL
    )
    kopf.run(
        standalone=True,
        clusterwide=not settings.namespaces,
        namespaces=settings.namespaces,
        liveness_endpoint=settings.health_url,
        memo=kopf.Memo(settings=settings),
    )


if __name__ == "__main__":
    main()
