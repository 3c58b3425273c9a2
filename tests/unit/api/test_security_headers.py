"""Security headers on every HTTP answer, the strict CSP everywhere but FastAPI's CDN docs pages (when the
dashboard is not built); ``route_guards`` finds open routes."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import StreamingResponse

from factorytwin.api.auth import Admin, Ingester, Viewer, require, route_guards
from factorytwin.api.headers import DASHBOARD_CSP, DOCS_PATHS, SecurityHeaders
from factorytwin.auth import Role


def make_app() -> FastAPI:
    """An app with a guarded route, an open one, a streaming one, behind the middleware."""
    app = FastAPI()
    router = APIRouter()

    @router.get("/api/v1/guarded")
    async def guarded(_: Viewer) -> dict[str, str]:
        return {}

    @router.post("/api/v1/ingest")
    async def ingest(_: Ingester) -> dict[str, str]:
        return {}

    @router.get("/api/v1/auth/me")
    async def me(_: Admin) -> dict[str, str]:
        return {}

    @router.get("/open")
    async def open_route() -> dict[str, str]:
        return {"ok": "yes"}

    @router.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> object:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks(), media_type="text/plain")  # type: ignore[arg-type]

    app.include_router(router)
    engineering = APIRouter(dependencies=[Depends(require(Role.ENGINEER))])

    @engineering.put("/layout")
    async def put_layout() -> dict[str, str]:
        return {}

    app.include_router(engineering, prefix="/api/v1")
    app.add_middleware(SecurityHeaders, csp_exempt=DOCS_PATHS)  # as without a dashboard build: FastAPI's CDN docs
    return app


async def test_every_answer_carries_the_headers_and_the_docs_get_no_csp() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://t") as c:
        page = await c.get("/open")
        assert page.headers["content-security-policy"] == DASHBOARD_CSP
        assert "frame-ancestors 'none'" in DASHBOARD_CSP
        assert "script-src 'self';" in DASHBOARD_CSP
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "cache-control" not in page.headers
        docs = await c.get("/docs")
        assert docs.status_code == 200
        assert "content-security-policy" not in docs.headers
        assert docs.headers["x-frame-options"] == "DENY"
        streamed = await c.get("/stream")
        assert streamed.text == "ab"
        assert streamed.headers["x-content-type-options"] == "nosniff"
        auth = await c.get("/api/v1/auth/me")
        assert auth.headers["cache-control"] == "no-store"


def test_route_guards_name_each_routes_guard_and_find_the_open_ones() -> None:
    guards = route_guards(make_app())
    assert guards["GET /api/v1/guarded"] == "viewer"
    assert guards["POST /api/v1/ingest"] == "device key or operator"
    assert guards["GET /api/v1/auth/me"] == "admin"
    assert guards["PUT /api/v1/layout"] == "engineer"  # a router-level dependency counts
    assert guards["GET /open"] is None
    assert guards["GET /docs"] is None  # FastAPI's own routes are plain Starlette routes: listed as open
