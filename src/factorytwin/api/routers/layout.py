"""GET /layout: the factory layout, and how big each machine kind is drawn."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

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
