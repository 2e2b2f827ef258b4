"""`python -m discord_relay`: the relay on RELAY_HOST:RELAY_PORT (0.0.0.0:8800), JSON logs only.

Running uvicorn from here, with our logging set up before it starts, makes every line of output
JSON, uvicorn's own start-up lines included (`uvicorn discord_relay.app:app` works too, but
prints those few lines in uvicorn's plain format).
"""

from __future__ import annotations

import logging
import sys

import fdc_logging
import uvicorn
from pydantic import ValidationError

from discord_relay.app import create_app
from discord_relay.config import Settings

log = logging.getLogger("discord_relay")


def main() -> None:
    fdc_logging.configure()
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = [error["msg"] for error in exc.errors(include_url=False, include_input=False)]
        log.critical("invalid configuration, not starting", extra={"problems": problems})
        sys.exit(2)
    fdc_logging.configure(settings.log_level, secrets=settings.secrets())
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # Probes and scrapes would fill the log; deliveries and refusals are logged by the app.
        access_log=False,
        server_header=False,
        # Nothing proxies the relay and it reads no client address: no X-Forwarded-* parsing.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
