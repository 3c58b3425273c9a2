"""GET /catalogue: the sensor catalogue, per machine kind."""

from __future__ import annotations

from fastapi import APIRouter

from factorytwin.api.auth import Viewer
from factorytwin.domain import CATALOGUE, MachineKind, SensorSpec

router = APIRouter(tags=["catalogue"])


@router.get("/catalogue")
async def get_catalogue(who: Viewer) -> dict[MachineKind, list[SensorSpec]]:
    """Every machine kind's sensors: key, label, unit, physical range, normal band, max rate of change."""
    return {kind: list(specs) for kind, specs in CATALOGUE.items()}
