"""Credentials for tests of the real app, whose every route but a few public ones needs one (docs/SECURITY.md).

- ``bearer(app, role)``: headers with a new API token of ``role``, on a started app (in-process clients);
- ``bearer_sync(client, role)``: the same through an entered ``TestClient``'s portal;
- ``token_for(database_url, role)``: a token written straight into a database, for a server started afterwards
  in another process (the server reads the same tables).
"""

from __future__ import annotations

import itertools

from fastapi import FastAPI
from fastapi.testclient import TestClient

from factorytwin.auth import AuthService, Context, PrincipalKind, Role
from factorytwin.store import open_store
from factorytwin.store.auth import auth_store_for

TEST_CTX = Context("tests", PrincipalKind.CLI, "cli")
_names = itertools.count(1)


def _name(role: Role) -> str:
    return f"test-{role}-{next(_names)}"


async def bearer(app: FastAPI, role: Role = Role.ADMIN) -> dict[str, str]:
    """``Authorization`` headers with a new token of ``role`` on the started ``app``."""
    auth: AuthService = app.state.services.auth
    secret, _ = await auth.create_token(_name(role), role, TEST_CTX)
    return {"Authorization": f"Bearer {secret}"}


def bearer_sync(client: TestClient, role: Role = Role.ADMIN) -> dict[str, str]:
    """``Authorization`` headers with a new token of ``role``, for an entered ``TestClient`` of the app."""
    assert client.portal is not None, "enter the client first (with TestClient(app) as client)"
    app = client.app
    assert isinstance(app, FastAPI)
    return client.portal.call(bearer, app, role)


async def token_for(database_url: str, role: Role = Role.ADMIN) -> str:
    """A new API token of ``role`` stored in the database at ``database_url`` (migrated if new)."""
    store = open_store(database_url)
    await store.open()
    try:
        secret, _ = await AuthService(auth_store_for(store)).create_token(_name(role), role, TEST_CTX)
    finally:
        await store.close()
    return secret


async def user_for(database_url: str, username: str, role: Role, password: str) -> None:
    """A dashboard user stored in the database at ``database_url`` (for a server running in another process)."""
    store = open_store(database_url)
    await store.open()
    try:
        await AuthService(auth_store_for(store)).add_user(username, role, password, TEST_CTX)
    finally:
        await store.close()


SERVED: dict[str, dict[str, str]] = {}
"""Admin headers of the servers the tests started, by base URL (``http://127.0.0.1:PORT``)."""


async def register_served(base: str, app: FastAPI) -> dict[str, str]:
    """Create an admin token on the started ``app`` served at ``base`` and remember it for ``admin_headers``."""
    SERVED[base.rstrip("/")] = headers = await bearer(app)
    return headers


def admin_headers(url: str) -> dict[str, str]:
    """The admin headers of the test server at ``url`` (http:// or ws://, any path), see ``register_served``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.replace("ws://", "http://", 1))
    return SERVED[f"http://{parts.netloc}"]
