"""The API docs pages: local bundles under the strict CSP when the dashboard build has them, FastAPI's CDN pages
(without CSP) when it does not."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi import FastAPI

from factorytwin.api.docs import ASSETS, BUNDLES, install_docs
from factorytwin.api.headers import DASHBOARD_CSP, DOCS_PATHS, SecurityHeaders


def docs_app(static: Path) -> FastAPI:
    app = FastAPI(title="factorytwin", docs_url=None, redoc_url=None)
    local = install_docs(app, static)
    app.add_middleware(SecurityHeaders, csp_exempt=() if local else DOCS_PATHS)
    return app


def urls(page: str) -> list[str]:
    return re.findall(r"(?:src|href)='([^']+)'", page) + re.findall(r'(?:src|href)="([^"]+)"', page)


async def test_with_the_bundles_built_the_docs_load_only_this_origins_files_under_the_csp(tmp_path: Path) -> None:
    for name in BUNDLES:
        (tmp_path / ASSETS).mkdir(exist_ok=True)
        (tmp_path / ASSETS / name).write_text("/* bundle */")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=docs_app(tmp_path)), base_url="http://t") as c:
        for path in ("/docs", "/redoc"):
            page = await c.get(path)
            assert page.status_code == 200
            assert page.headers["content-security-policy"] == DASHBOARD_CSP
            found = urls(page.text)
            assert found, page.text
            assert all(u.startswith(f"/{ASSETS}/") for u in found), found  # no CDN, nothing off this origin
            assert "<script>" not in page.text  # no inline script: the CSP would refuse it
            assert "/openapi.json" in page.text


async def test_without_a_dashboard_build_the_docs_fall_back_to_fastapis_cdn_pages(tmp_path: Path) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=docs_app(tmp_path)), base_url="http://t") as c:
        page = await c.get("/docs")
        assert page.status_code == 200
        assert "cdn.jsdelivr.net" in page.text
        assert "content-security-policy" not in page.headers
        assert page.headers["x-frame-options"] == "DENY"
