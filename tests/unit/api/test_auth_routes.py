"""Login, logout, /auth/me, /audit and the ``require`` dependency, over HTTP and WebSocket, on a small test app.

The routes of the real app are not protected yet (see docs/SECURITY.md); this app mounts the auth router and a few
probe routes guarded like the real ones will be.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from factorytwin.api.app import API_PREFIX
from factorytwin.api.auth import (
    CSRF_HEADER,
    DEVICE_KEY_HEADER,
    Ingester,
    Operator,
    Viewer,
    check_ingest,
    install_auth,
    require,
)
from factorytwin.api.errors import install_error_handlers
from factorytwin.api.routers import auth as auth_router
from factorytwin.auth import AuditQuery, AuthService, Context, Outcome, Principal, PrincipalKind, Role
from factorytwin.store import Store, open_store
from factorytwin.store.auth import auth_store_for
from tests.unit.auth.conftest import Clock, cheap_passwords

CLI = Context("root", PrincipalKind.CLI, "cli")
PASSWORD = "a long enough password"

probe = APIRouter()


@probe.get("/probe/read")
async def probe_read(who: Viewer) -> dict[str, str]:
    return {"name": who.name}


@probe.post("/probe/command")
async def probe_command(who: Operator) -> dict[str, str]:
    return {"name": who.name}


@probe.post("/probe/ingest/{machine_id}")
async def probe_ingest(machine_id: str, who: Ingester) -> dict[str, str]:
    check_ingest(who, {machine_id})
    return {"name": who.name}


@probe.websocket("/probe/ws")
async def probe_ws(ws: WebSocket, who: Annotated[Principal, Depends(require(Role.VIEWER))]) -> None:
    await ws.accept()
    await ws.send_json({"name": who.name})
    await ws.close()


def make_app(service: AuthService | None) -> FastAPI:
    """A FastAPI app with the auth router and the probes under /api/v1."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(auth_router.router, prefix=API_PREFIX)
    app.include_router(probe, prefix=API_PREFIX)
    if service is not None:
        install_auth(app, service)
    return app


@pytest.fixture
def clock() -> Clock:
    """A fresh fake clock."""
    return Clock()


@pytest.fixture
async def store(backend_url: str) -> AsyncIterator[Store]:
    """An open store of each backend: every test here runs on SQLite and on PostgreSQL."""
    st = open_store(backend_url)
    await st.open()
    try:
        yield st
    finally:
        await st.close()


@pytest.fixture
async def service(store: Store, clock: Clock) -> AuthService:
    """An auth service with users viewer 'vic', operator 'olga' and admin 'ada'."""
    svc = AuthService(auth_store_for(store), passwords=cheap_passwords(), now=clock.now, limiter_clock=clock.monotonic)
    for name, role in [("vic", Role.VIEWER), ("olga", Role.OPERATOR), ("ada", Role.ADMIN)]:
        await svc.add_user(name, role, PASSWORD, CLI)
    return svc


@pytest.fixture
async def client(service: AuthService) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process HTTP client of the test app."""
    transport = httpx.ASGITransport(app=make_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def login(client: httpx.AsyncClient, username: str) -> str:
    """Log in (the client keeps the cookies); returns the CSRF token."""
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    return token


async def test_login_sets_a_httponly_samesite_cookie_and_writes_need_the_csrf_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/login", json={"username": "olga", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {"kind": "session", "name": "olga", "role": "operator", "machine_ids": []}
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("ft_session="))
    assert "HttpOnly" in session
    assert "SameSite=strict" in session
    assert "Secure" not in session  # plain http in this test; https sets it
    assert (await client.get("/api/v1/auth/me")).json()["name"] == "olga"
    assert (await client.get("/api/v1/probe/read")).status_code == 200
    no_csrf = await client.post("/api/v1/probe/command")
    assert no_csrf.status_code == 403
    assert "CSRF" in no_csrf.json()["detail"][0]["msg"]
    wrong = await client.post("/api/v1/probe/command", headers={CSRF_HEADER: "guess"})
    assert wrong.status_code == 403
    ok = await client.post("/api/v1/probe/command", headers={CSRF_HEADER: body["csrf_token"]})
    assert ok.status_code == 200


async def test_logout_ends_the_session_and_clears_the_cookies(client: httpx.AsyncClient) -> None:
    csrf = await login(client, "vic")
    session = client.cookies["ft_session"]
    assert (await client.post("/api/v1/auth/logout")).status_code == 403  # a write: CSRF needed
    r = await client.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf})
    assert r.status_code == 204
    assert "ft_session" not in client.cookies
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    client.cookies.set("ft_session", session)  # a replayed cookie
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_bad_logins_get_one_message_then_a_lockout_with_retry_after(
    client: httpx.AsyncClient, service: AuthService
) -> None:
    wrong = await client.post("/api/v1/auth/login", json={"username": "vic", "password": "not it at all"})
    unknown = await client.post("/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    for _ in range(service.policy.per_user.max_failures - 1):
        await client.post("/api/v1/auth/login", json={"username": "vic", "password": "not it at all"})
    locked = await client.post("/api/v1/auth/login", json={"username": "vic", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    missing = await client.post("/api/v1/auth/login", json={"username": "vic"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"][-1] == "password"


async def test_no_credential_is_401_and_a_lower_role_403_and_audited(
    client: httpx.AsyncClient, service: AuthService
) -> None:
    anonymous = await client.get("/api/v1/probe/read")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    secret, _ = await service.create_token("dash", Role.VIEWER, CLI)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/probe/read", headers=bearer)).status_code == 200
    denied = await client.post("/api/v1/probe/command", headers=bearer)
    assert denied.status_code == 403
    assert denied.json()["detail"][0]["msg"] == "needs the operator role or higher (the caller has viewer)"
    [entry] = await service.audit(AuditQuery(action="auth.forbidden"))
    assert (entry.actor, entry.target, entry.outcome, entry.source) == (
        "dash",
        "/api/v1/probe/command",
        Outcome.DENIED,
        "127.0.0.1",
    )
    for header in ("Basic dXNlcjpwdw==", "Bearer", "Bearer ftt_forged"):
        r = await client.get("/api/v1/probe/read", headers={"Authorization": header})
        assert r.status_code == 401, header
    await service.revoke_token("dash", CLI)
    assert (await client.get("/api/v1/probe/read", headers=bearer)).status_code == 401


async def test_a_device_key_may_ingest_only_its_own_machine_and_read_nothing(
    client: httpx.AsyncClient, service: AuthService
) -> None:
    key, _ = await service.issue_device_key("mill-01", CLI)
    for headers in ({"Authorization": f"Bearer {key}"}, {DEVICE_KEY_HEADER: key}):
        assert (await client.post("/api/v1/probe/ingest/mill-01", headers=headers)).status_code == 200
        other = await client.post("/api/v1/probe/ingest/mill-02", headers=headers)
        assert other.status_code == 403
        assert "mill-02" in other.json()["detail"][0]["msg"]
        assert (await client.get("/api/v1/probe/read", headers=headers)).status_code == 403
    me = (await client.get("/api/v1/auth/me", headers={DEVICE_KEY_HEADER: key})).json()
    assert me == {"kind": "device", "name": "device:mill-01", "role": None, "machine_ids": ["mill-01"]}
    viewer, _ = await service.create_token("v", Role.VIEWER, CLI)
    refused = await client.post("/api/v1/probe/ingest/mill-01", headers={"Authorization": f"Bearer {viewer}"})
    assert refused.status_code == 403
    operator, _ = await service.create_token("o", Role.OPERATOR, CLI)
    allowed = await client.post("/api/v1/probe/ingest/mill-02", headers={"Authorization": f"Bearer {operator}"})
    assert allowed.status_code == 200


async def test_the_audit_trail_is_for_admins_filtered_and_exported_as_csv(
    client: httpx.AsyncClient, service: AuthService
) -> None:
    await client.post("/api/v1/auth/login", json={"username": "=cmd|' /C calc'!A0", "password": PASSWORD})
    await login(client, "vic")
    assert (await client.get("/api/v1/audit")).status_code == 403
    client.cookies.clear()
    await login(client, "ada")
    r = await client.get("/api/v1/audit", params={"action": "auth.login", "outcome": "failure"})
    assert r.status_code == 200
    [failure] = r.json()
    assert failure["actor"] == "=cmd|' /C calc'!A0"
    assert failure["source"] == "127.0.0.1"
    assert (await client.get("/api/v1/audit", params={"actor": "ada", "limit": 1})).json()[0]["action"] == "auth.login"
    exported = await client.get("/api/v1/audit", params={"format": "csv", "action": "auth.login"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["actor"] for r in rows] == ["ada", "vic", "'=cmd|' /C calc'!A0"]  # formula defused
    nul = await client.get("/api/v1/audit", params={"actor": "a\x00b"})
    assert nul.status_code == 422
    bad = await client.get("/api/v1/audit", params={"outcome": "meh"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "outcome"]


async def test_a_websocket_is_closed_1008_without_a_credential_and_served_with_one(sqlite_url: str) -> None:
    # TestClient runs the app in a loop of its own, which an asyncpg pool opened here cannot serve: SQLite only
    # (the real app's WebSocket is walked on both backends by test_route_walk.py, its store opened in that loop).
    store = open_store(sqlite_url)
    await store.open()
    service = AuthService(auth_store_for(store), passwords=cheap_passwords())
    secret, _ = await service.create_token("screen", Role.VIEWER, CLI)
    with TestClient(make_app(service)) as tc:
        with pytest.raises(WebSocketDisconnect) as closed, tc.websocket_connect("/api/v1/probe/ws") as ws:
            ws.receive_json()
        assert closed.value.code == 1008
        with tc.websocket_connect("/api/v1/probe/ws", headers={"Authorization": f"Bearer {secret}"}) as ws:
            assert ws.receive_json() == {"name": "screen"}
    await store.close()


async def test_an_app_without_an_auth_service_answers_503_not_open() -> None:
    transport = httpx.ASGITransport(app=make_app(None))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        assert (await c.get("/api/v1/probe/read")).status_code == 503


async def test_a_one_time_login_link_sets_the_session_and_redirects_to_the_dashboard(
    client: httpx.AsyncClient, service: AuthService
) -> None:
    link = await service.create_login_link("ada", CLI)
    r = await client.get("/api/v1/auth/link", params={"token": link})
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    assert "HttpOnly" in next(c for c in r.headers.get_list("set-cookie") if c.startswith("ft_session="))
    assert (await client.get("/api/v1/auth/me")).json()["name"] == "ada"
    client.cookies.clear()
    again = await client.get("/api/v1/auth/link", params={"token": link})
    assert again.status_code == 401
    assert (await client.get("/api/v1/auth/link")).status_code == 422
