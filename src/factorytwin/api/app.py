"""The FastAPI application factory: lifespan (store, layout, ingest, other services), routers, errors, dashboard.

Other areas plug in here with one line each: a router in ``ROUTERS``, a start-up hook in ``SERVICE_HOOKS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response

from factorytwin import __version__
from factorytwin.api.deps import Services
from factorytwin.api.errors import install_error_handlers
from factorytwin.api.routers import alarms, catalogue, commands, gltf, health, layout, machines, ml, stream, telemetry
from factorytwin.config import Settings
from factorytwin.ingest import IngestService
from factorytwin.layout import load_layout
from factorytwin.store import Store, open_store

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"

ROUTERS: list[APIRouter] = [
    health.router,
    catalogue.router,
    layout.router,
    gltf.router,
    telemetry.router,
    machines.router,
    alarms.router,
    commands.router,
    stream.router,
    ml.router,
]
"""Routers served under ``/api/v1``, in order."""

ServiceHook = Callable[[Services], AbstractAsyncContextManager[Any]]
SERVICE_HOOKS: list[ServiceHook] = [stream.twin_lifespan, ml.ml_lifespan]
"""Start-up hooks of other areas (twin, MQTT, ML): each is entered after ingest has started, with the ``Services``
container (set your field / listener / health section there), and exited in reverse order at shutdown."""


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The factorytwin API for ``settings``.

    With ``store`` None the app opens ``settings.database_url`` at start-up and closes it at shutdown; a given
    ``store`` must already be open and stays open (its owner closes it).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            the_store = store
            if the_store is None:
                the_store = open_store(settings.database_url)
                await the_store.open()
                stack.push_async_callback(the_store.close)
            factory = load_layout(settings.layout_path)
            await the_store.register_machines(factory.machines)
            ingest = IngestService(settings, the_store, factory.machines)
            await ingest.start()
            stack.push_async_callback(ingest.stop)
            services = Services(
                settings=settings,
                store=the_store,
                layout=factory,
                ingest=ingest,
                started_at=datetime.now(UTC),
                machines={m.id: m for m in factory.machines},
            )
            app.state.services = services
            for hook in SERVICE_HOOKS:
                await stack.enter_async_context(hook(services))
            yield

    app = FastAPI(
        title="factorytwin",
        version=__version__,
        description="A digital twin of a smart factory: telemetry ingest, history, live state, predictions.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _install_openapi(app)
    if (STATIC_DIR / "index.html").is_file():
        _mount_dashboard(app, STATIC_DIR)
    return app


def _install_openapi(app: FastAPI) -> None:
    """OpenAPI document with the schemas of hand-parsed bodies (POST /telemetry) merged into its components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in telemetry.SCHEMA_DEFS.items():
                schemas.setdefault(name, schema)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_dashboard(app: FastAPI, root: Path) -> None:
    """Serve the dashboard build at /: files as they are, any other non-API path gets index.html (SPA routes)."""
    root = root.resolve()
    index = root / "index.html"

    @app.get("/{path:path}", include_in_schema=False)
    async def dashboard(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            return JSONResponse({"detail": [{"loc": ["path"], "msg": f"no API route /{path}"}]}, status_code=404)
        target = (root / path).resolve()
        if path and target.is_file() and target.is_relative_to(root):
            return FileResponse(target)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
