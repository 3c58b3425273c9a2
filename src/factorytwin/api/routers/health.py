"""GET /health: liveness, store backend and sizes, ingest counters, and sections other services register."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from factorytwin import __version__
from factorytwin.api.deps import HealthValue, ServicesDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The service's health and counters."""

    status: str
    version: str
    backend: str
    uptime_s: float
    machines: int
    store: dict[str, int]
    ingest: dict[str, int]
    sections: dict[str, dict[str, HealthValue]]


@router.get("/health")
async def get_health(services: ServicesDep) -> Health:
    """Status, store backend and sizes, ingest counters (accepted, rejected, overloaded...)."""
    stats = await services.store.stats()
    ingest = services.ingest
    return Health(
        status="ok",
        version=__version__,
        backend=services.store.backend,
        uptime_s=(datetime.now(UTC) - services.started_at).total_seconds(),
        machines=len(services.machines),
        store={"machines": stats.machines, "readings": stats.readings, "events": stats.events},
        ingest={**ingest.counters.as_dict(), "queue_depth": ingest.queue_depth},
        sections={name: dict(section()) for name, section in services.health_sections.items()},
    )
