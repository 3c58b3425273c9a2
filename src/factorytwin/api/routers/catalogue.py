"""GET /catalogue: every profile's sensors (bundled and user-defined), by profile id."""

from __future__ import annotations

from fastapi import APIRouter

from factorytwin.api.auth import Viewer
from factorytwin.api.deps import ServicesDep
from factorytwin.domain import SensorSpec

router = APIRouter(tags=["catalogue"])


@router.get("/catalogue")
async def get_catalogue(who: Viewer, services: ServicesDep) -> dict[str, list[SensorSpec]]:
    """Every profile's sensors by profile id: key, label, unit, physical range, normal band, max rate of change,
    activity (a machine's own band overrides are on the machine: ``bands``)."""
    registry = services.registry
    return {p.id: list(registry.specs(p.id).values()) for p in registry.profiles()}
