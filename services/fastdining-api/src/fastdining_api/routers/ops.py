"""Operational endpoints: liveness, a trivial ping, and an intentional failure for demos
(`boom_router`, included only when the settings ask for it)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str


@router.get("/ping", response_class=PlainTextResponse)
async def ping() -> str:
    return "pong"


@router.get("/healthz")
async def healthz() -> Health:
    return Health(status="ok")


# Served only with FASTDINING_BOOM_ENABLED=true (the umbrella's demo values turn it on): in any
# other install, anyone could drive the error-rate SLO into paging at will.
boom_router = APIRouter(tags=["ops"])


@boom_router.get("/boom", responses={500: {"description": "Always: an intentional error"}})
async def boom() -> None:
    # Lets anyone drive 5xx traffic to watch the error-rate SLO and its alerts react.
    raise HTTPException(status_code=500, detail="intentional")
