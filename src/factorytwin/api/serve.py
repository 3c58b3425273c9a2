"""Running the API server: ``run_server`` (blocking, the ``serve`` command) and ``BackgroundServer`` (in-process,
on a free port, for ``demo``, benchmarks and tests)."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from factorytwin.api.app import create_app
from factorytwin.api.httplimits import bounded_protocol
from factorytwin.auth.exposure import exposure_problem, is_loopback
from factorytwin.config import Settings, settings_problem
from factorytwin.errors import FactoryTwinError, LayoutError
from factorytwin.layout import load_layout
from factorytwin.mqtt import MqttEndpoint
from factorytwin.preflight import StartupProblem, check_connections
from factorytwin.store import open_store, redact_url
from factorytwin.store.base import Store

log = logging.getLogger(__name__)


WS_MAX_MESSAGE_BYTES = 1024 * 1024
"""Largest WebSocket message a client may send: clients send only subscription requests (uvicorn's default is
16 MB, which a list of 500,000 unknown machine ids fits in)."""


def _config(settings: Settings, store: Store | None, port: int, log_level: str) -> uvicorn.Config:
    # One process; uvloop and httptools, the httptools protocol bounded in head size and header count
    # (httplimits.py); no access log: at thousands of requests per second it costs more than it tells.
    return uvicorn.Config(
        create_app(settings, store),
        host=settings.host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        http=bounded_protocol(settings.max_header_bytes),
        ws_max_size=WS_MAX_MESSAGE_BYTES,
    )


GC_THRESHOLDS = (50_000, 20, 10)
"""The collector's thresholds under ``serve`` (CPython's default: 700, 10, 10). A 50,040-value batch allocates
some 14,000 containers; at 700 the youngest generation was collected 20 times per such request, each time walking
the batch's column lists (50,040 entries each) again."""


def settle_heap() -> None:
    """Move what start-up built into the collector's permanent generation, and collect the young less often.

    Ingest allocates many short-lived containers (a 5,040-value batch: some 1,400 dicts and models, and column
    lists of 5,040 entries that the collector walks each time it runs while they live). With CPython's default
    thresholds every request set off several young collections and a full one every few seconds, which walked the
    whole start-up heap again (measured in docs/ARCHITECTURE.md, "Ingest beside its peers"). Frozen objects are
    never walked again; garbage made later is collected as before, only less often (``GC_THRESHOLDS``). Done once,
    by ``serve`` only: in-process servers (tests, demo) come and go, and freezing theirs would keep their garbage.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def announcement(host: str, port: int, database_url: str) -> str:
    """The line ``serve`` prints once its port is bound (the database URL without its password)."""
    return f"factorytwin serving http://{host}:{port} (store {redact_url(database_url)})"


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints ``factorytwin serving http://...`` once its port is bound (not before: a
    taken port or a failed start-up must not have been announced as serving)."""

    def __init__(self, config: uvicorn.Config, database_url: str) -> None:
        super().__init__(config)
        self._database_url = database_url

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        settle_heap()
        bound = [s.getsockname() for server in self.servers for s in server.sockets]
        host, port = (bound[0][0], bound[0][1]) if bound else (self.config.host, self.config.port)
        typer.echo(announcement(host, port, self._database_url))


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (as uvicorn binds: address reuse on), for the server to listen on;
    ``OSError`` when it cannot be bound (the port is taken, the address is not this machine's)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run_server(settings: Settings, log_level: str = "info", sock: socket.socket | None = None) -> None:
    """Serve the API on ``sock`` (default: ``settings.host:settings.port``) until interrupted (Ctrl-C)."""
    server = _AnnouncingServer(_config(settings, None, settings.port, log_level), settings.database_url)
    server.run(sockets=[sock] if sock is not None else None)


class ServerStartError(FactoryTwinError, RuntimeError):
    """The server could not start (port taken, bad database, ...); uvicorn has logged why."""


class BackgroundServer:
    """The API served in the running event loop: ``async with BackgroundServer(settings) as server: server.url``.

    Binds ``settings.host`` on ``port`` (0: a free port chosen by the OS); start-up errors are raised from
    ``__aenter__``.
    """

    def __init__(self, settings: Settings, store: Store | None = None, port: int = 0, log_level: str = "warning"):
        self._server = uvicorn.Server(_config(settings, store, port, log_level))
        self._task: asyncio.Task[None] | None = None
        self.host = settings.host
        self.port = port

    @property
    def app(self) -> FastAPI:
        """The application being served (its ``state.services`` once started)."""
        app = self._server.config.app
        assert isinstance(app, FastAPI)
        return app

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start serving; return when the server accepts connections."""
        self._task = asyncio.create_task(self._serve(), name="ft-api-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the start-up error, if any
                raise ServerStartError("the API server stopped during start-up (see the log above)")
            await asyncio.sleep(0.02)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = int(sockets[0].getsockname()[1])

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        except SystemExit as exc:  # uvicorn exits the process on a failed start-up; here it is an error instead
            message = f"the API server failed to start (exit code {exc.code}); see the log above"
            raise ServerStartError(message) from None

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests, run the app's shutdown."""
        if self._task is not None:
            self._server.should_exit = True
            await self._task
            self._task = None

    async def __aenter__(self) -> BackgroundServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def auth_configured(database_url: str) -> bool:
    """True when the database holds at least one user or API token (someone can log in or call the API)."""
    from factorytwin.store.auth import auth_store_for

    store = open_store(database_url)
    await store.open()
    try:
        auth = auth_store_for(store)
        return bool(await auth.users()) or bool(await auth.tokens())
    finally:
        await store.close()


def serve_command(
    host: Annotated[str | None, typer.Option(help="address to bind (env FT_HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (env FT_PORT, default 8000)")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///file.db or postgresql://user@host/db (env FT_DATABASE_URL)")
    ] = None,
    layout: Annotated[
        Path | None, typer.Option(help="factory layout YAML/JSON (env FT_LAYOUT_PATH, default: built-in)")
    ] = None,
    mqtt_url: Annotated[
        str | None, typer.Option(help="mqtt://host:port or mqtts://host:port (TLS) to turn MQTT on (env FT_MQTT_URL)")
    ] = None,
) -> None:
    """Serve the REST API, WebSocket and dashboard (one process) until Ctrl-C."""
    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "database_url": database_url,
        "layout_path": layout,
        "mqtt_url": mqtt_url,
    }
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
        load_layout(settings.layout_path)  # a bad layout is told now, with file and line, not as a traceback
        open_store(settings.database_url)
        if settings.mqtt_url:  # a bad broker URL or an unreadable CA/certificate is told now, in one line
            MqttEndpoint.from_settings(settings)
    except ValidationError as exc:
        typer.echo(f"error: {settings_problem(exc)}", err=True)
        raise typer.Exit(2) from None
    except (LayoutError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:  # a database that cannot be opened or a broker that is not there: one line, not a start-up traceback
        asyncio.run(check_connections(settings))
    except StartupProblem as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if not is_loopback(settings.host):  # secure by default: beyond this machine only with someone to log in
        try:
            configured = asyncio.run(auth_configured(settings.database_url))
        except (FactoryTwinError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        problem = exposure_problem(settings.host, configured)
        if problem is not None:
            typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(2)
    try:  # bound here, so that a taken port is one line; the server announces itself once it listens on it
        sock = listen_socket(settings.host, settings.port)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    run_server(settings, sock=sock)  # announces "factorytwin serving http://..." once it listens
