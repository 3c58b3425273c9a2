"""The ``Services`` container the app keeps in ``app.state`` and the FastAPI dependency that hands it out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from factorytwin.config import Settings
from factorytwin.domain import FactoryLayout, Machine
from factorytwin.errors import NotFound
from factorytwin.ingest import IngestService
from factorytwin.store.base import Store

if TYPE_CHECKING:
    from factorytwin.ingest.mqtt import MqttIngest
    from factorytwin.ml.predictor import Predictor
    from factorytwin.twin.service import TwinService

MachineStateProvider = Callable[[str], dict[str, Any] | None]
"""Given a machine id, its live state as JSON-able dict (the twin provides it), or None."""


@dataclass
class Services:
    """Everything a request handler may use, built once by the app's lifespan.

    Other areas add their own services as fields with a default of None (set by their start-up hook in
    ``app.SERVICE_HOOKS``), and may register ``health_sections`` and a ``machine_state`` provider.
    """

    settings: Settings
    store: Store
    layout: FactoryLayout
    ingest: IngestService
    started_at: datetime
    machines: dict[str, Machine] = field(default_factory=dict)
    health_sections: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)
    """Extra sections of GET /health, by name (e.g. "mqtt": counters of the MQTT subscriber)."""
    machine_state: MachineStateProvider | None = None
    """Live state of a machine for GET /machines and /machines/{id}; None until the twin sets it."""
    twin: TwinService | None = None
    """The live twin (state, alarms, stream, commands); set by the twin's start-up hook."""
    mqtt_ingest: MqttIngest | None = None
    """The MQTT telemetry subscriber, when ``mqtt_url`` is set."""
    predictor: Predictor | None = None
    """Predictions, schedule and model registry; set by the ML start-up hook."""

    def machine(self, machine_id: str) -> Machine:
        """The machine of the layout with id ``machine_id``; NotFound otherwise."""
        try:
            return self.machines[machine_id]
        except KeyError:
            raise NotFound(f"no machine {machine_id!r} in the factory layout") from None


async def get_services(request: Request) -> Services:
    """FastAPI dependency: the app's ``Services`` (async, so FastAPI calls it inline, not in a worker thread)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
