"""The FastAPI application factory: routers, errors, the OpenAPI document, the dashboard.

What runs behind the routes is built by the composition root, ``api.lifespan``. Other areas plug in here with
one line each: a router in ``ROUTERS``, a start-up hook in ``lifespan.SERVICE_HOOKS``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response

from factorytwin import __version__
from factorytwin.api.bodylimit import BodyLimit
from factorytwin.api.docs import install_docs
from factorytwin.api.errors import ErrorBody, install_error_handlers
from factorytwin.api.headers import DOCS_PATHS, SecurityHeaders
from factorytwin.api.lifespan import app_lifespan
from factorytwin.api.routers import (
    alarms,
    assets,
    auth,
    catalogue,
    commands,
    connectors,
    exports,
    gltf,
    health,
    kpi,
    layout,
    machines,
    ml,
    profiles,
    scenarios,
    stream,
    telemetry,
    views,
    workorders,
)
from factorytwin.config import Settings
from factorytwin.store import Store
from factorytwin.twin.messages import CLIENT_MESSAGES, SERVER_MESSAGES, BatchMessage

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"
REF_TEMPLATE = "#/components/schemas/{model}"
GZIP_MIN_BYTES = 1024
"""Answers smaller than this are sent as they are (compressing them saves less than it costs)."""
IMMUTABLE = "public, max-age=31536000, immutable"
"""Cache-Control of the dashboard's hashed build files (``assets/<name>-<hash>.js``): a new build has new names."""
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_HEADERS = ["Authorization", "Content-Type", "X-CSRF-Token"]
"""What a page of an origin in ``FT_CORS_ORIGINS`` may send (with credentials): the API's methods and headers."""

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    catalogue.router,
    layout.router,
    gltf.router,
    telemetry.router,
    machines.router,
    alarms.router,
    commands.router,
    stream.router,
    ml.router,
    assets.router,
    profiles.router,
    connectors.router,
    kpi.router,
    exports.router,
    scenarios.router,
    workorders.router,
    views.router,
]
"""Routers served under ``/api/v1``, in order."""

__all__ = ["API_PREFIX", "ROUTERS", "STATIC_DIR", "create_app", "openapi_document"]


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The factorytwin API for ``settings``.

    With ``store`` None the app opens ``settings.database_url`` at start-up and closes it at shutdown; a given
    ``store`` must already be open and stays open (its owner closes it).
    """
    app = FastAPI(
        title="factorytwin",
        version=__version__,
        description="A digital twin of a smart factory: telemetry ingest, history, live state, predictions.",
        lifespan=app_lifespan(settings, store),
        docs_url=None,  # install_docs: served from this origin when the dashboard build has the bundles
        redoc_url=None,
    )
    install_error_handlers(app)
    # Gzip for whatever the client accepts it for: the dashboard's 1.2 MB of JavaScript, large JSON answers.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    telemetry_path = f"{API_PREFIX}/telemetry"
    assets_path = f"{API_PREFIX}/assets"
    caps = {telemetry_path: lambda: settings.max_body_bytes, assets_path: lambda: settings.max_asset_bytes}
    app.add_middleware(BodyLimit, limit_for=lambda path: caps.get(path, lambda: settings.max_request_bytes)())
    if settings.cors_origins:  # off by default: same origin only (Settings refuses "*")
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
        )
    local_docs = install_docs(app, STATIC_DIR)
    # added last, so it runs first: every answer gets the headers (the CDN docs pages, if any, no CSP)
    app.add_middleware(SecurityHeaders, csp_exempt=() if local_docs else DOCS_PATHS)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _install_openapi(app)
    if (STATIC_DIR / "index.html").is_file():
        _mount_dashboard(app, STATIC_DIR)
    return app


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app``, with the schemas the routes alone do not show merged into its components:
    the hand-parsed ``POST /telemetry`` body, and the WebSocket stream's messages (``ServerMessage``, the union of
    what the server sends, and ``ClientMessage``), so that the browser's types can be generated from it."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in telemetry.SCHEMA_DEFS.items():
        schemas.setdefault(name, schema)
    _use_error_body(doc)
    # What the server sends is described as serialised (defaulted fields such as ``type`` are always present).
    unions = {
        "ServerMessage": SERVER_MESSAGES.json_schema(ref_template=REF_TEMPLATE, mode="serialization"),
        "ClientMessage": CLIENT_MESSAGES.json_schema(ref_template=REF_TEMPLATE, mode="validation"),
        # sent only to a client that asks for it (``?batch=true``), so not in the union every client handles
        "BatchMessage": BatchMessage.model_json_schema(ref_template=REF_TEMPLATE, mode="serialization"),
    }
    for name, union in unions.items():
        for def_name, schema in union.pop("$defs", {}).items():
            schemas.setdefault(def_name, schema)
        schemas[name] = union
    return doc


def _use_error_body(doc: dict[str, Any]) -> None:
    """Describe error answers as what ``api.errors`` sends (``ErrorBody``), not FastAPI's ``HTTPValidationError``."""
    schemas: dict[str, Any] = doc["components"]["schemas"]
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template=REF_TEMPLATE))
    for name, schema in ErrorBody.model_json_schema(ref_template=REF_TEMPLATE).pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path in doc.get("paths", {}).values():
        for operation in path.values():
            for status, answer in operation.get("responses", {}).items():
                if not str(status).startswith(("4", "5")):
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                # Error answers declared without a body, and FastAPI's own 422, get the body api.errors sends.
                if schema is None or schema == {"$ref": "#/components/schemas/HTTPValidationError"}:
                    answer["content"] = body
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _methods_of(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI document lists for ``path`` (empty: no such route)."""
    for template, operations in app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            return sorted(method.upper() for method in operations)
    return []


def _mount_dashboard(app: FastAPI, root: Path) -> None:
    """Serve the dashboard build at /: files as they are, any other non-API path gets index.html (SPA routes)."""
    root = root.resolve()
    index = root / "index.html"

    @app.get("/{path:path}", include_in_schema=False)
    async def dashboard(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            allowed = _methods_of(app, f"/{path}")
            if allowed:  # an API route that takes other methods: 405 as without the dashboard, not its 404
                msg = f"/{path} does not take GET; it takes {', '.join(allowed)}"
                headers = {"Allow": ", ".join(allowed)}
                return JSONResponse({"detail": [{"loc": ["method"], "msg": msg}]}, status_code=405, headers=headers)
            return JSONResponse({"detail": [{"loc": ["path"], "msg": f"no API route /{path}"}]}, status_code=404)
        target = (root / path).resolve()
        if path and target.is_file() and target.is_relative_to(root):
            hashed = target.is_relative_to(root / "assets")  # Vite names every build file there by its hash
            return FileResponse(target, headers={"Cache-Control": IMMUTABLE if hashed else "no-cache"})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
