"""`python -m fastdining_api` (or `fastdining-api`): serve the app with uvicorn on the
configured host and port, every line of output, uvicorn's own included, one JSON object.

`uvicorn fastdining_api.app:app` works too, but prints its first few lines in its plain format
(the app's lifespan switches to JSON lines only once uvicorn has loaded it).
"""

from __future__ import annotations

import logging
import sys

import fdc_logging
import uvicorn

from fastdining_api.config import SettingsError, load_settings

log = logging.getLogger("fastdining_api")


def main() -> None:
    fdc_logging.configure()
    try:
        settings = load_settings()
    except SettingsError as exc:
        log.critical("invalid configuration, not starting", extra={"problems": str(exc)})
        sys.exit(2)
    fdc_logging.configure(settings.log_level)
    # One worker: the metrics live in this process's registry (no multiprocess mode);
    # scale with replicas, each scraped on its own.
    uvicorn.run(
        "fastdining_api.app:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
