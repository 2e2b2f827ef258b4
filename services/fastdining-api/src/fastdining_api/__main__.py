"""`python -m fastdining_api`: serve the app with uvicorn on the configured host and port."""

from __future__ import annotations

import uvicorn

from fastdining_api.config import load_settings


def main() -> None:
    settings = load_settings()
    # One worker: the metrics live in this process's registry (no multiprocess mode);
    # scale with replicas, each scraped on its own.
    uvicorn.run(
        "fastdining_api.app:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
