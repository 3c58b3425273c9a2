"""A viewer's bearer token on a started app: installs an ``AuthService`` over the app's store (until the lead's
wiring makes the shared client fixture authenticated) and makes a viewer token."""

from __future__ import annotations

from fastapi import FastAPI

from factorytwin.api.auth import install_auth
from factorytwin.auth import AuthService, Context, PrincipalKind, Role
from factorytwin.store.auth import auth_store_for
from tests.unit.auth.conftest import cheap_passwords

CLI = Context("test", PrincipalKind.CLI, "cli")


async def viewer_headers(app: FastAPI) -> dict[str, str]:
    """``Authorization`` headers of a fresh viewer token of ``app`` (which must be started)."""
    service: AuthService | None = getattr(app.state, "auth", None)
    if service is None:
        service = AuthService(auth_store_for(app.state.services.store), passwords=cheap_passwords())
        install_auth(app, service)
    secret, _ = await service.create_token("kpi-viewer", Role.VIEWER, CLI)
    return {"Authorization": f"Bearer {secret}"}
