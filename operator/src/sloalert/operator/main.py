"""`sloalert-operator`: read the settings, set up logging, run kopf with the handlers."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Mapping

import fdc_logging
import kopf

from sloalert.operator import handlers  # noqa: F401 - importing registers the kopf handlers
from sloalert.operator.settings import SettingsError, load_settings

log = logging.getLogger("sloalert.operator")

# What kopf attaches to its records for its own use: the whole settings object (a repr pages
# long) and its Event poster's flag. The object a line is about (`k8s_ref`) stays in the line.
_KOPF_INTERNALS = ("settings", "k8s_skip")


def own_identity(env: Mapping[str, str], hostname: str) -> str:
    """kopf's peering identity: the pod's name (POD_ID, from the downward API), else the host's.

    Left to itself, kopf names it after the user (`getpass.getuser()`), which raises under the
    image's UID 10001: it has no passwd entry. Nothing here needs one."""
    return env.get("POD_ID") or hostname


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        fdc_logging.configure()
        log.critical("invalid configuration, not starting", extra={"problems": str(exc)})
        sys.exit(2)
    if settings.log_format == "json":
        fdc_logging.configure(ignore=_KOPF_INTERNALS)
    else:
        kopf.configure(log_format=kopf.LogFormat.FULL)
    kopf.run(
        standalone=True,
        clusterwide=not settings.namespaces,
        namespaces=settings.namespaces,
        liveness_endpoint=settings.health_url,
        memo=kopf.Memo(settings=settings),
        identity=own_identity(os.environ, socket.gethostname()),
    )


if __name__ == "__main__":
    main()
