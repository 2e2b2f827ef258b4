"""The ASGI app: `uvicorn fastdining_api.app:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import fdc_logging
from fastapi import FastAPI

from fastdining_api.config import Settings, load_settings
from fastdining_api.instrumentation import instrument
from fastdining_api.routers import ops, recommendations


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # JSON lines from here on, the server's own lines included, however uvicorn was started.
        fdc_logging.configure(settings.log_level)
        yield

    app = FastAPI(title="FastDining API", version="0.1.0", lifespan=lifespan)
    app.include_router(ops.router)
    if settings.boom_enabled:
        app.include_router(ops.boom_router)
    app.include_router(recommendations.router)
    if settings.metrics_enabled:
        instrument(app, settings)
    return app


app = create_app()
