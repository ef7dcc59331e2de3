"""The plant as the pages show it: its name, logo and time zone; public, for the customer page.

It tells no more than a tracking link's page shows anyway (no machines, no orders).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from tracker.plant_logo import LOGO_TYPES

from .deps import AppParts, parts
from .errors import problems

LOGO_PATH = "/plant/logo"


class PlantPublic(BaseModel):
    name: str | None = Field(description="the plant's name (SHOPFLOOR_PLANT_NAME); null: none")
    logo_url: str | None = Field(description="its logo (SHOPFLOOR_PLANT_LOGO); null: none")
    timezone: str = Field(description="IANA time zone (plant file `timezone:`): times for people")


router = APIRouter(tags=["customers"])


@router.get("/api/v1/plant", response_model=PlantPublic)
async def plant(app: Annotated[AppParts, Depends(parts)]) -> PlantPublic:
    """Name, logo and time zone of the plant: the web pages show times in this zone."""
    logo = app.settings.plant_logo
    return PlantPublic(
        name=app.settings.plant_name,
        logo_url=LOGO_PATH if logo is not None else None,
        timezone=app.plant.timezone,
    )


@router.get(
    LOGO_PATH,
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in set(LOGO_TYPES.values())}}, **problems(404)},
)
async def logo(app: Annotated[AppParts, Depends(parts)]) -> FileResponse:
    """The plant's logo file (SHOPFLOOR_PLANT_LOGO)."""
    path = app.settings.plant_logo
    if path is None:
        raise HTTPException(404, detail="no logo")
    return FileResponse(
        path,
        media_type=LOGO_TYPES[path.suffix.lower()],
        # an SVG opened on its own runs no script and loads nothing
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=300",
        },
    )
