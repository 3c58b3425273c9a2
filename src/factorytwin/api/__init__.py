"""The HTTP face of factorytwin: ``create_app`` (FastAPI) and the server runners of ``serve``."""

from __future__ import annotations

from factorytwin.api.app import API_PREFIX, ROUTERS, SERVICE_HOOKS, create_app
from factorytwin.api.deps import Services, ServicesDep, get_services

__all__ = ["API_PREFIX", "ROUTERS", "SERVICE_HOOKS", "Services", "ServicesDep", "create_app", "get_services"]
