"""Restaurant recommendations from the built-in catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fastdining_api.catalogue import RecommendationQuery, Restaurant, recommend

router = APIRouter(tags=["recommendations"])


class Recommendations(BaseModel):
    count: int
    restaurants: list[Restaurant]


@router.get("/recommendations")
async def recommendations(query: Annotated[RecommendationQuery, Query()]) -> Recommendations:
    picked = recommend(query)
    return Recommendations(count=len(picked), restaurants=picked)
