"""CORS is off unless ``FT_CORS_ORIGINS`` names origins; then those exact origins (and no other) may call the API
with credentials, with the API's methods and headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from factorytwin.api import create_app
from factorytwin.auth import Role
from factorytwin.config import Settings
from tests.unit.api.conftest import TEST_CTX

HMI = "https://hmi.plant.example"
EVIL = "https://evil.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-csrf-token, content-type"}


async def client_of(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        secret, _ = await app.state.services.auth.create_token("cors-viewer", Role.VIEWER, TEST_CTX)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
            yield c


@pytest.fixture
async def default(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as configured by default: no CORS."""
    async for c in client_of(settings):
        yield c


@pytest.fixture
async def hmi(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with one allowed origin, the HMI's."""
    async for c in client_of(settings.model_copy(update={"cors_origins": [HMI]})):
        yield c


async def test_by_default_no_origin_gets_cors_headers(default: httpx.AsyncClient) -> None:
    answer = await default.get("/api/v1/machines", headers={"Origin": EVIL})
    assert answer.status_code == 200  # served (same-origin rules are the browser's), but not readable by EVIL
    assert not [name for name in answer.headers if name.startswith("access-control-")]
    preflight = await default.options("/api/v1/machines/mill-01/commands", headers={"Origin": EVIL, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers


async def test_a_configured_origin_may_read_and_write_with_credentials(hmi: httpx.AsyncClient) -> None:
    answer = await hmi.get("/api/v1/machines", headers={"Origin": HMI})
    assert answer.headers["access-control-allow-origin"] == HMI
    assert answer.headers["access-control-allow-credentials"] == "true"
    preflight = await hmi.options("/api/v1/machines/mill-01/commands", headers={"Origin": HMI, **PREFLIGHT})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == HMI
    assert preflight.headers["access-control-allow-credentials"] == "true"
    methods = {m.strip() for m in preflight.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-csrf-token"} <= allowed
    assert preflight.headers["x-frame-options"] == "DENY"  # the preflight gets the security headers too


async def test_another_origin_gets_nothing(hmi: httpx.AsyncClient) -> None:
    for origin in (EVIL, "https://hmi.plant.example.evil.example", "http://hmi.plant.example"):
        answer = await hmi.get("/api/v1/machines", headers={"Origin": origin})
        assert "access-control-allow-origin" not in answer.headers, origin
        preflight = await hmi.options("/api/v1/machines/mill-01/commands", headers={"Origin": origin, **PREFLIGHT})
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers


async def test_a_header_outside_the_list_is_refused_in_the_preflight(hmi: httpx.AsyncClient) -> None:
    headers = {"Origin": HMI, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-other"}
    preflight = await hmi.options("/api/v1/machines/mill-01/commands", headers=headers)
    assert preflight.status_code == 400


def test_a_wildcard_is_refused_at_start_up() -> None:
    # Credentials are allowed, so "*" would let any site act with an operator's session: never, not even on request.
    with pytest.raises(ValueError, match=r"'\*' is not allowed: CORS here allows credentials"):
        Settings(cors_origins="*")
