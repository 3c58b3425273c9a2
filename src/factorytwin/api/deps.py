"""The ``Services`` container the app keeps in ``app.state`` and the FastAPI dependencies that hand its parts out.

``TwinDep`` and ``PredictorDep`` raise ``ServiceUnavailable`` (503 over REST, see ``api.errors``) when their
service is not running, so every route answers "not running" the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from factorytwin.api.errors import ErrorBody
from factorytwin.auth import AuthService
from factorytwin.config import Settings
from factorytwin.domain import FactoryLayout, Machine
from factorytwin.errors import NotFound, ServiceUnavailable
from factorytwin.ingest import IngestService
from factorytwin.ml import Predictor
from factorytwin.plant import PlantService
from factorytwin.profiles.assets import AssetService
from factorytwin.profiles.registry import ProfileRegistry
from factorytwin.profiles.service import ProfileService
from factorytwin.store.base import Store
from factorytwin.twin.messages import MachineState
from factorytwin.twin.service import TwinService

if TYPE_CHECKING:
    from factorytwin.connectors.service import ConnectorService
    from factorytwin.ingest.mqtt import MqttIngest
    from factorytwin.whatif.jobs import ScenarioJobs

HealthValue = int | float | str | bool | None
"""One counter or label of a ``GET /health`` section."""
HealthSection = Callable[[], Mapping[str, HealthValue]]
"""A service's section of ``GET /health``, computed when asked."""

MachineStateProvider = Callable[[str], MachineState | None]
"""Given a machine id, its live state (the twin provides it), or None."""

TWIN_NOT_RUNNING = "the live twin is not running"
PREDICTOR_NOT_RUNNING = "the prediction service is not running"


@dataclass
class Services:
    """Everything a request handler may use, built once by the app's lifespan (``api.lifespan``).

    Other areas add their own services as fields with a default of None (set by their start-up hook in
    ``lifespan.SERVICE_HOOKS``), and may register ``health_sections`` and a ``machine_state`` provider.
    """

    settings: Settings
    store: Store
    plant: PlantService
    """The machines and the floor, provisioned live (``layout()`` is the plant as a layout)."""
    ingest: IngestService
    started_at: datetime
    auth: AuthService
    """Who may do what: users, sessions, tokens, device keys and the audit trail (``api.auth`` asks it)."""
    machines: dict[str, Machine] = field(default_factory=dict)
    """Machine id -> machine: the plant's one dict (``plant.machines``), changed in place by provisioning."""
    registry: ProfileRegistry = field(default_factory=ProfileRegistry.bundled)
    """The profiles in force: every machine's sensors and bands come from here."""
    health_sections: dict[str, HealthSection] = field(default_factory=dict)
    """Extra sections of GET /health, by name (e.g. "mqtt": counters of the MQTT subscriber)."""
    machine_state: MachineStateProvider | None = None
    """Live state of a machine for GET /machines and /machines/{id}; None until the twin sets it."""
    twin: TwinService | None = None
    """The live twin (state, alarms, stream, commands); set by the twin's start-up hook."""
    mqtt_ingest: MqttIngest | None = None
    """The MQTT telemetry subscriber, when ``mqtt_url`` is set."""
    predictor: Predictor | None = None
    """Predictions, schedule and model registry; set by the ML start-up hook."""
    profiles: ProfileService | None = None
    """Machine profiles (versions, DTDL import/export); set by the profiles start-up hook."""
    connectors: ConnectorService | None = None
    """OPC UA, Modbus and mapped MQTT connectors, stored and run live; set by the connectors' start-up hook."""
    assets: AssetService | None = None
    """Uploaded glTF/GLB assets profiles draw machines with; set by the profiles start-up hook."""
    scenarios: ScenarioJobs | None = None
    """What-if scenario jobs; set by the what-if start-up hook."""

    @property
    def layout(self) -> FactoryLayout:
        """The plant as it is now, as a layout."""
        return self.plant.layout()

    def machine(self, machine_id: str) -> Machine:
        """The machine of the layout with id ``machine_id``; NotFound otherwise."""
        try:
            return self.machines[machine_id]
        except KeyError:
            raise NotFound(f"no machine {machine_id!r} on the plant") from None

    def require_twin(self) -> TwinService:
        """The running twin; ``ServiceUnavailable`` when it is not running."""
        if self.twin is None:
            raise ServiceUnavailable(TWIN_NOT_RUNNING)
        return self.twin

    def require_predictor(self) -> Predictor:
        """The running predictor; ``ServiceUnavailable`` when it is not running."""
        if self.predictor is None:
            raise ServiceUnavailable(PREDICTOR_NOT_RUNNING)
        return self.predictor


def services_of(connection: HTTPConnection) -> Services:
    """The app's ``Services`` from a request or a WebSocket."""
    services: Services = connection.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """FastAPI dependency: the app's ``Services`` (async, so FastAPI calls it inline, not in a worker thread)."""
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_twin(services: ServicesDep) -> TwinService:
    """FastAPI dependency: the live twin; 503 when it is not running."""
    return services.require_twin()


async def get_predictor(services: ServicesDep) -> Predictor:
    """FastAPI dependency: the predictor; 503 when it is not running."""
    return services.require_predictor()


TwinDep = Annotated[TwinService, Depends(get_twin)]
PredictorDep = Annotated[Predictor, Depends(get_predictor)]

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "a service the route needs is not running", "model": ErrorBody}
}
"""The ``responses`` entry of routes that take ``TwinDep`` or ``PredictorDep``."""
