"""GET /layout: the factory layout and how big each profile's machines are drawn; GET /plant: clock, currency."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from factorytwin.api.auth import Viewer
from factorytwin.api.deps import ServicesDep
from factorytwin.api.footprints import Footprint
from factorytwin.api.gltf import footprint_of
from factorytwin.domain import FactoryLayout

router = APIRouter(tags=["layout"])


class LayoutView(FactoryLayout):
    """The factory layout and the footprint of every profile (what the 3D floor and the glTF export draw)."""

    footprints: dict[str, Footprint] = Field(
        description="by profile id: the size of its model, metres (a built-in model's, a primitive's own; an "
        "uploaded model's stand-in)"
    )
    profile_names: dict[str, str] = Field(description="by profile id: the profile's name, as the dashboard shows it")


@router.get("/layout")
async def get_layout(who: Viewer, services: ServicesDep) -> LayoutView:
    """The factory: floor size, production lines and machines with their positions; each profile's footprint."""
    bounds = services.assets.bounds if services.assets is not None else None
    footprints = {p.id: footprint_of(p.appearance, bounds) for p in services.registry.profiles()}
    names = {p.id: p.name for p in services.registry.profiles()}
    return LayoutView(**services.layout.model_dump(), footprints=footprints, profile_names=names)


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
