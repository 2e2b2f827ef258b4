"""The ASGI app: `uvicorn fastdining_api.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from fastdining_api.config import Settings, load_settings
from fastdining_api.instrumentation import instrument
from fastdining_api.routers import ops, recommendations


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(title="FastDining API", version="0.1.0")
    app.include_router(ops.router)
    app.include_router(recommendations.router)
    if settings.metrics_enabled:
        instrument(app, settings)
    return app


app = create_app()
