"""GET /layout: the factory layout, and how big each machine kind is drawn; GET /plant: its clock and currency."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from factorytwin.api.auth import Viewer
from factorytwin.api.deps import ServicesDep
from factorytwin.api.footprints import FOOTPRINTS, Footprint
from factorytwin.domain import FactoryLayout, MachineKind

router = APIRouter(tags=["layout"])


class LayoutView(FactoryLayout):
    """The factory layout and the footprint of every machine kind (what the 3D floor and the glTF export draw)."""

    footprints: dict[MachineKind, Footprint] = Field(description="size of each machine kind's model, metres")


@router.get("/layout")
async def get_layout(who: Viewer, services: ServicesDep) -> LayoutView:
    """The factory: floor size, production lines and machines with their positions; the kinds' footprints."""
    return LayoutView(**services.layout.model_dump(), footprints=FOOTPRINTS)


class PlantInfo(BaseModel):
    """How the dashboard should speak of time and money for this plant."""

    name: str = Field(description="the plant's (layout's) name")
    timezone: str = Field(description="IANA time zone every time is shown in (FT_PLANT_TIMEZONE)")
    time_scale: float = Field(
        description="machine seconds per wall second: above 1 a simulator compresses time (FT_TIME_SCALE)"
    )
    currency: str = Field(description="ISO 4217 code of every cost (FT_CURRENCY)")


@router.get("/plant")
async def get_plant(who: Viewer, services: ServicesDep) -> PlantInfo:
    """The plant's time zone, its clock's compression and the currency of its costs."""
    s = services.settings
    return PlantInfo(name=services.layout.name, timezone=s.plant_timezone, time_scale=s.time_scale, currency=s.currency)
