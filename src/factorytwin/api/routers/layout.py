"""GET /layout: the factory layout."""

from __future__ import annotations

from fastapi import APIRouter

from factorytwin.api.deps import ServicesDep
from factorytwin.domain import FactoryLayout

router = APIRouter(tags=["layout"])


@router.get("/layout")
async def get_layout(services: ServicesDep) -> FactoryLayout:
    """The factory: floor size, production lines and machines with their positions."""
    return services.layout
