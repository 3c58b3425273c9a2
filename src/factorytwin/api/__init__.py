"""The HTTP face of factorytwin: ``create_app`` (FastAPI) and the server runners of ``serve``."""

from __future__ import annotations

from factorytwin.api.app import API_PREFIX, ROUTERS, create_app
from factorytwin.api.deps import PredictorDep, Services, ServicesDep, TwinDep, get_services
from factorytwin.api.lifespan import SERVICE_HOOKS

__all__ = [
    "API_PREFIX",
    "ROUTERS",
    "SERVICE_HOOKS",
    "PredictorDep",
    "Services",
    "ServicesDep",
    "TwinDep",
    "create_app",
    "get_services",
]
