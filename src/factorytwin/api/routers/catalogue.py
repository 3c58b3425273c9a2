"""GET /catalogue: the sensor catalogue, per machine kind."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from factorytwin.domain import CATALOGUE

router = APIRouter(tags=["catalogue"])


@router.get("/catalogue")
async def get_catalogue() -> dict[str, list[dict[str, Any]]]:
    """Every machine kind's sensors: key, label, unit, physical range, normal band, max rate of change."""
    return {kind.value: [asdict(spec) for spec in specs] for kind, specs in CATALOGUE.items()}
