"""The interactive API docs (``/docs``: Swagger UI, ``/redoc``: ReDoc) served from this origin.

The dashboard build (``make web``) copies the Swagger UI and ReDoc bundles (npm packages pinned in
web/package.json) into ``static/api-docs``; with them the docs work without internet and under the dashboard's
strict Content-Security-Policy (the pages load only this origin's files and run no inline script). Without a
dashboard build the app falls back to FastAPI's pages, which load the bundles from a CDN and so get no CSP.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS = "api-docs"
"""Folder of the bundles inside the dashboard build (served by the dashboard's static route)."""
BUNDLES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "swagger-init.js")


def local_assets(static_dir: Path) -> bool:
    """True when the dashboard build holds every bundle the local docs pages need."""
    return all((static_dir / ASSETS / name).is_file() for name in BUNDLES)


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>{head}</head>{body}</html>",
        headers={"Cache-Control": "no-cache"},
    )


def install_docs(app: FastAPI, static_dir: Path) -> bool:
    """Add ``GET /docs`` and ``GET /redoc`` to ``app`` (create it with ``docs_url=None, redoc_url=None``); True
    when they are the local pages (strict CSP possible), False for FastAPI's CDN pages."""
    title = f"{app.title} API"
    openapi = html.escape(app.openapi_url or "/openapi.json", quote=True)
    local = local_assets(static_dir)

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        if not local:
            return get_swagger_ui_html(openapi_url=openapi, title=title)
        head = f"<link rel='stylesheet' href='/{ASSETS}/swagger-ui.css'>"
        body = (
            f"<body data-openapi='{openapi}'><div id='swagger-ui'></div>"
            f"<script src='/{ASSETS}/swagger-ui-bundle.js'></script><script src='/{ASSETS}/swagger-init.js'></script>"
            "</body>"
        )
        return _page(title, head, body)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        if not local:
            return get_redoc_html(openapi_url=openapi, title=title)
        body = (
            f"<body style='margin:0'><redoc spec-url='{openapi}'></redoc>"
            f"<script src='/{ASSETS}/redoc.standalone.js'></script></body>"
        )
        return _page(title, "", body)

    return local
