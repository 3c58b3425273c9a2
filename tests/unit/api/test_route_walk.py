"""The route walker finds open routes, routes that answer without a credential and roles let in too low."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, WebSocket
from fastapi.testclient import TestClient

from factorytwin.api.app import create_app
from factorytwin.api.auth import (
    PUBLIC_ROUTES,
    Admin,
    Engineer,
    Ingester,
    Operator,
    Viewer,
    install_auth,
    require,
    route_guards,
)
from factorytwin.auth import AuthService, Context, Principal, PrincipalKind, Role
from factorytwin.config import Settings
from factorytwin.store import Store, open_store
from factorytwin.store.auth import auth_store_for
from tests.credentials import bearer_sync
from tests.unit.api.route_walk import problems, route_cases
from tests.unit.auth.conftest import Clock, cheap_passwords

CLI = Context("t", PrincipalKind.CLI, "cli")


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[Store]:
    """An open SQLite store."""
    store = open_store(sqlite_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def guarded_app() -> FastAPI:
    """Routes of every guard, one with an int path parameter and a required body, and a WebSocket."""
    router = APIRouter(prefix="/api/v1")

    @router.get("/machines/{machine_id}")
    async def read(machine_id: str, _: Viewer) -> dict[str, str]:
        return {}

    @router.post("/alarms/{alarm_id}/ack")
    async def ack(alarm_id: int, body: dict[str, int], _: Operator) -> dict[str, str]:
        return {}

    @router.put("/layout")
    async def layout(_: Engineer) -> dict[str, str]:
        return {}

    @router.get("/audit")
    async def audit(_: Admin) -> dict[str, str]:
        return {}

    @router.post("/telemetry")
    async def telemetry(_: Ingester) -> dict[str, str]:
        return {}

    @router.websocket("/stream")
    async def stream(ws: WebSocket, _: Annotated[Principal, Depends(require(Role.VIEWER))]) -> None:
        await ws.accept()
        await ws.close()

    app = FastAPI()
    app.include_router(router)
    return app


async def tokens_of(service: AuthService) -> dict[Role, str]:
    """A bearer token of each role."""
    return {role: (await service.create_token(f"t-{role}", role, CLI))[0] for role in Role}


async def test_a_well_guarded_app_has_no_problems_and_the_docs_are_the_only_public_routes(
    sqlite_store: Store,
) -> None:
    clock = Clock()
    service = AuthService(auth_store_for(sqlite_store), cheap_passwords(), now=clock.now, limiter_clock=clock.monotonic)
    app = guarded_app()
    install_auth(app, service)
    public = {"GET /openapi.json", "GET /docs", "GET /docs/oauth2-redirect", "GET /redoc"}
    assert len(route_cases(app, public)) == 6
    tokens = await tokens_of(service)
    with TestClient(app) as client:
        assert problems(client, app, tokens, public) == []


async def test_a_route_born_open_is_reported(sqlite_store: Store) -> None:
    clock = Clock()
    service = AuthService(auth_store_for(sqlite_store), cheap_passwords(), now=clock.now, limiter_clock=clock.monotonic)
    app = guarded_app()

    @app.post("/api/v1/machines/{machine_id}/commands")
    async def command(machine_id: str) -> dict[str, str]:  # born open
        return {}

    install_auth(app, service)
    tokens = await tokens_of(service)
    with TestClient(app) as client:
        found = problems(client, app, tokens, {"GET /openapi.json", "GET /docs", "GET /docs/oauth2-redirect"})
    assert "POST /api/v1/machines/{machine_id}/commands: declares no guard" in found
    assert "GET /redoc: declares no guard" in found


# --- the real app -------------------------------------------------------------------------------------------

EXPECTED_GUARDS = {
    "DELETE /api/v1/connectors/{connector_id}": "engineer",
    "GET /api/v1/connectors": "viewer",
    "GET /api/v1/connectors/{connector_id}": "viewer",
    "GET /api/v1/machines/{machine_id}/connectors": "viewer",
    "POST /api/v1/connectors": "engineer",
    "POST /api/v1/connectors/{connector_id}/browse": "engineer",
    "POST /api/v1/connectors/{connector_id}/commands": "engineer",
    "POST /api/v1/connectors/{connector_id}/start": "engineer",
    "POST /api/v1/connectors/{connector_id}/stop": "engineer",
    "PUT /api/v1/connectors/{connector_id}": "engineer",
    "POST /api/v1/assets": "engineer",
    "GET /api/v1/assets": "viewer",
    "GET /api/v1/assets/{asset_id}": "viewer",
    "DELETE /api/v1/assets/{asset_id}": "engineer",
    "DELETE /api/v1/machines/{machine_id}": "engineer",
    "POST /api/v1/machines": "engineer",
    "PUT /api/v1/machines/{machine_id}": "engineer",
    "DELETE /api/v1/profiles/{profile_id}": "engineer",
    "DELETE /api/v1/scenarios/{job_id}": "engineer",
    "GET /api/v1/events": "viewer",
    "GET /api/v1/exports/alarms": "viewer",
    "GET /api/v1/exports/events": "viewer",
    "GET /api/v1/exports/history": "viewer",
    "GET /api/v1/exports/kpis": "viewer",
    "GET /api/v1/exports/work-orders": "viewer",
    "GET /api/v1/kpis": "viewer",
    "GET /api/v1/profiles": "viewer",
    "GET /api/v1/profiles/{profile_id}": "viewer",
    "GET /api/v1/profiles/{profile_id}/dtdl": "viewer",
    "GET /api/v1/scenarios": "viewer",
    "GET /api/v1/work-orders": "viewer",
    "GET /api/v1/work-orders/{order_id}": "viewer",
    "POST /api/v1/work-orders": "operator",
    "POST /api/v1/work-orders/{order_id}/notes": "operator",
    "POST /api/v1/work-orders/{order_id}/transition": "operator",
    "GET /api/v1/views": "viewer",
    "POST /api/v1/views": "operator",
    "DELETE /api/v1/views/{view_id}": "operator",
    "PATCH /api/v1/views/{view_id}": "operator",
    "GET /api/v1/scenarios/{job_id}": "viewer",
    "POST /api/v1/profiles": "engineer",
    "POST /api/v1/profiles/import/dtdl": "engineer",
    "POST /api/v1/scenarios": "engineer",
    "PUT /api/v1/profiles/{profile_id}": "engineer",
    "GET /api/v1/alarms": "viewer",
    "GET /api/v1/audit": "admin",
    "GET /api/v1/auth/me": "any credential",
    "GET /api/v1/catalogue": "viewer",
    "GET /api/v1/layout": "viewer",
    "GET /api/v1/layout.gltf": "viewer",
    "GET /api/v1/machines": "viewer",
    "GET /api/v1/machines/{machine_id}": "viewer",
    "GET /api/v1/machines/{machine_id}/events": "viewer",
    "GET /api/v1/machines/{machine_id}/history": "viewer",
    "GET /api/v1/machines/{machine_id}/prediction": "viewer",
    "GET /api/v1/maintenance/schedule": "viewer",
    "GET /api/v1/models": "viewer",
    "GET /api/v1/models/active": "viewer",
    "GET /api/v1/models/train/{job_id}": "viewer",
    "POST /api/v1/alarms/{alarm_id}/ack": "operator",
    "POST /api/v1/alarms/{alarm_id}/clear": "operator",
    "POST /api/v1/alarms/{alarm_id}/comments": "operator",
    "POST /api/v1/alarms/{alarm_id}/shelve": "operator",
    "POST /api/v1/alarms/{alarm_id}/unshelve": "operator",
    "POST /api/v1/auth/logout": "any credential",
    "POST /api/v1/machines/{machine_id}/commands": "operator",
    "POST /api/v1/models/train": "engineer",
    "POST /api/v1/models/{version}/activate": "engineer",
    "GET /api/v1/plant": "viewer",
    "POST /api/v1/predict": "viewer",
    "POST /api/v1/telemetry": "device key or operator",
    "WS /api/v1/stream": "viewer",
}
"""The least credential of every route of the app (docs/SECURITY.md's table). A new route fails the test below
until it is added here with its guard, so no route is born open."""


def test_every_route_of_the_real_app_is_guarded_as_documented(settings: Settings) -> None:
    app = create_app(settings)
    declared = {key: guard for key, guard in route_guards(app).items() if not key.startswith("HEAD ")}
    open_routes = {key for key, guard in declared.items() if guard is None}
    assert open_routes <= PUBLIC_ROUTES, f"routes without a guard: {sorted(open_routes - PUBLIC_ROUTES)}"
    assert {k: v for k, v in declared.items() if k not in PUBLIC_ROUTES} == EXPECTED_GUARDS


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def test_the_real_app_refuses_every_route_without_a_credential_and_below_its_role(
    settings: Settings, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "postgres":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("postgres_url")})
    app = create_app(settings)
    with TestClient(app) as client:
        tokens = {role: bearer_sync(client, role)["Authorization"].removeprefix("Bearer ") for role in Role}
        assert problems(client, app, tokens, set(PUBLIC_ROUTES)) == []
        # the public ones really are: liveness and the login form's target answer anonymous callers
        assert client.get("/api/v1/health").status_code == 200
        assert client.post("/api/v1/auth/login", json={"username": "x", "password": "y"}).status_code == 401
