"""OpenID Connect turned on by ``FT_OIDC_*`` settings, end to end: the real app (its own lifespan, served by uvicorn
on a free port) over SQLite and PostgreSQL, a provider's JWKS served over HTTP on loopback, tokens signed by the
test. Mapped groups read and command; every refused token is a 401 with its reason in the audit trail."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from factorytwin.api.serve import BackgroundServer
from factorytwin.auth import AuditQuery, AuthService, Outcome
from factorytwin.config import Settings
from tests.unit.auth.test_oidc import AUDIENCE, ISSUER, Jwks, new_key, token

pytestmark = pytest.mark.integration

ENV = {
    "FT_OIDC_ISSUER": ISSUER,
    "FT_OIDC_AUDIENCE": AUDIENCE,
    "FT_OIDC_GROUP_ROLES": "plant-viewers=viewer,plant-ops=operator",
    "FT_OIDC_GROUPS_CLAIM": "roles",
    "FT_OIDC_USERNAME_CLAIM": "email",
}


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    """The provider's JWKS, one key 'k1'."""
    server = Jwks()
    server.keys = [new_key("k1")]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def server(backend_url: str, jwks: Jwks, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BackgroundServer]:
    """The app with OpenID Connect configured from the environment, as ``factorytwin serve`` reads it."""
    for name, value in {**ENV, "FT_OIDC_JWKS_URL": jwks.url, "FT_DATABASE_URL": backend_url}.items():
        monkeypatch.setenv(name, value)
    async with BackgroundServer(Settings(mqtt_url=None, layout_path=None)) as running:
        yield running


def signed(jwks: Jwks, **claims: Any) -> str:
    """A token of the test provider for olga, in ``roles`` (the configured groups claim)."""
    base: dict[str, Any] = {"email": "olga@plant.example", "groups": None, "roles": ["plant-ops", "canteen"]}
    return token(jwks.keys[0], **{**base, **claims})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def oidc_audit(server: BackgroundServer) -> list[tuple[Outcome, str]]:
    auth: AuthService = server.app.state.services.auth
    return [(e.outcome, e.detail) for e in reversed(await auth.audit(AuditQuery(action="auth.oidc")))]


async def test_mapped_groups_read_and_command_in_the_named_users_name(server: BackgroundServer, jwks: Jwks) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        viewer = bearer(signed(jwks, roles=["plant-viewers"]))
        machines = await http.get("/api/v1/machines", headers=viewer)
        assert machines.status_code == 200, machines.text
        assert len(machines.json()) > 0
        refused = await http.post("/api/v1/machines/mill-01/commands", json={"command": "stop"}, headers=viewer)
        assert refused.status_code == 403, refused.text
        assert "operator" in refused.text

        operator = bearer(signed(jwks))
        sent = await http.post("/api/v1/machines/mill-01/commands", json={"command": "stop"}, headers=operator)
        assert sent.status_code == 202, sent.text
    auth: AuthService = server.app.state.services.auth
    [command] = await auth.audit(AuditQuery(action="machines.command"))
    assert command.actor == "oidc:olga@plant.example"
    assert await oidc_audit(server) == []  # only refusals are audited as auth.oidc


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iss": "https://evil.example/realms/plant"}, "iss"),
        ({"aud": "another-app"}, "aud"),
        ({"exp": int(time.time()) - 3600}, "xpired"),
        ("forged", "BadSignature"),
    ],
    ids=["wrong-issuer", "wrong-audience", "expired", "bad-signature"],
)
async def test_a_bad_token_is_401_and_its_reason_is_audited(
    server: BackgroundServer, jwks: Jwks, claims: dict[str, Any] | str, why: str
) -> None:
    if claims == "forged":  # same key id, another key: the provider never signed this
        value = token(new_key("k1"), email="olga@plant.example", roles=["plant-ops"])
    else:
        assert isinstance(claims, dict)
        value = signed(jwks, **claims)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        answer = await http.get("/api/v1/machines", headers=bearer(value))
    assert answer.status_code == 401, answer.text
    # The same answer whatever the reason: that is for the audit trail, not for the caller.
    assert answer.json()["detail"][0]["msg"] == "invalid, expired or revoked credential"
    [(outcome, detail)] = await oidc_audit(server)
    assert outcome is Outcome.FAILURE
    assert why in detail


async def test_a_valid_identity_without_a_mapped_group_is_403_and_audited(server: BackgroundServer, jwks: Jwks) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        answer = await http.get("/api/v1/machines", headers=bearer(signed(jwks, roles=["canteen"])))
    assert answer.status_code == 403, answer.text
    [(outcome, detail)] = await oidc_audit(server)
    assert outcome is Outcome.DENIED
    assert "no factorytwin role" in detail


async def test_the_live_stream_takes_an_oidc_token_at_connect(server: BackgroundServer, jwks: Jwks) -> None:
    url = server.url.replace("http", "ws", 1) + "/api/v1/stream?machines=mill-01"
    async with ws_connect(url, additional_headers=bearer(signed(jwks, roles=["plant-viewers"]))) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
    with pytest.raises(InvalidStatus) as refused:  # an expired token: refused before the socket is accepted
        async with ws_connect(url, additional_headers=bearer(signed(jwks, exp=int(time.time()) - 3600))):
            pass
    assert refused.value.response.status_code == 403
    [(outcome, detail)] = await oidc_audit(server)
    assert (outcome, "xpired" in detail) == (Outcome.FAILURE, True)
