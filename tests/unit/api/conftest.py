"""An in-process client of the app (ASGI transport, lifespan run), on a fresh SQLite file.

The app is the real one, so every route needs a credential: ``client`` carries an admin's API token (tests of
what a route does), ``anonymous`` carries none, and ``tokens`` holds a bearer secret of each role (tests of who may
do it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services, create_app
from factorytwin.auth import Context, PrincipalKind, Role
from factorytwin.config import Settings

TEST_CTX = Context("tests", PrincipalKind.CLI, "cli")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app, started (store open, layout registered, ingest running)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def services(app: FastAPI) -> Services:
    """The started app's services."""
    svc: Services = app.state.services
    return svc


@pytest.fixture
async def tokens(services: Services) -> dict[Role, str]:
    """A bearer token of each role, by role."""
    found = {}
    for role in Role:
        secret, _ = await services.auth.create_token(f"test-{role}", role, TEST_CTX)
        found[role] = secret
    return found


@pytest.fixture
async def client(app: FastAPI, tokens: dict[Role, str]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, as an admin (API token)."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {tokens[Role.ADMIN]}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
        yield c


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process without any credential."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
