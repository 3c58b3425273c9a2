"""``factorytwin demo``: the whole twin in one command.

It trains a first model when the registry has none (a simulated history of the factory, then the failure, RUL and
mode models, with progress bars), serves the API and the dashboard, and runs the simulator in real time at a
speed-up with a few machines heading for failure, so alarms, predictions and a maintenance schedule show within
minutes. Ctrl-C stops everything cleanly.

Embedded defaults: SQLite and the in-process bus; commands reach the in-process simulator directly. With
``--mqtt`` the simulator publishes over MQTT and listens for commands there, exactly as a remote gateway would.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from factorytwin.api.deps import Services
from factorytwin.api.serve import BackgroundServer, listen_socket
from factorytwin.auth import AuthService, Context, PrincipalKind, Role
from factorytwin.config import Settings
from factorytwin.domain import CommandMessage, FactoryLayout
from factorytwin.errors import FactoryTwinError, LayoutError
from factorytwin.layout import load_layout
from factorytwin.ml import ModelRegistry, TrainConfig, TrainOptions, train_and_register
from factorytwin.mqtt import MqttEndpoint
from factorytwin.preflight import check_connections
from factorytwin.progress import progress_bars
from factorytwin.sim.commands import apply_command
from factorytwin.sim.dataset import generate_dataset
from factorytwin.sim.engine import Engine
from factorytwin.sim.realtime import run_realtime
from factorytwin.store import redact_url
from factorytwin.twin.commands import CommandSink, NotServed

console = Console()

DEMO_DATABASE_URL = "sqlite:///var/demo.db"
DEMO_ADMIN = "admin"
DEMO_CTX = Context("demo", PrincipalKind.CLI, "cli")


@dataclass(frozen=True)
class DemoAccess:
    """How the demo's people and its simulator get in, without switching any check off (docs/SECURITY.md)."""

    login_url: str
    """A one-time login link (10 minutes) for the demo's admin: opens a dashboard session."""
    simulator_token: str
    """An operator token (1 day) the in-process simulator posts its telemetry with; revoked at shutdown."""
    simulator_token_name: str
    new_password: str | None
    """The admin's generated password when this start created the admin (shown once), else None."""


async def demo_access(auth: AuthService, base_url: str) -> DemoAccess:
    """Create the demo's admin at first start (a generated password), a one-time login link for an admin, and a
    short-lived token for the simulator."""
    users = await auth.users()
    password = None
    if not users:
        password = secrets.token_urlsafe(15)
        await auth.add_user(DEMO_ADMIN, Role.ADMIN, password, DEMO_CTX)
        users = await auth.users()
    admin = next((u.username for u in users if u.role is Role.ADMIN), None)
    if admin is None:
        raise FactoryTwinError(
            "the database has users but no admin: add one (`factorytwin users add NAME --role admin`)"
        )
    link = await auth.create_login_link(admin, DEMO_CTX)
    name = f"demo-simulator-{secrets.token_hex(4)}"
    token, _ = await auth.create_token(name, Role.OPERATOR, DEMO_CTX, datetime.now(UTC) + timedelta(days=1))
    return DemoAccess(f"{base_url}/api/v1/auth/link?token={link}", token, name, password)


def ensure_model(settings: Settings, layout: FactoryLayout, days: float, seed: int) -> str:
    """The active model version; when there is none, simulate ``days`` of ``layout`` and train one."""
    registry = ModelRegistry(settings.model_dir)
    active = registry.active_version()
    if active is not None:
        console.print(f"model [bold]{active}[/] found in {registry.root}")
        return active
    data = settings.model_dir.parent / "demo-training.parquet"
    console.print(f"no model in {registry.root}: training a first one on {days:g} simulated days of the factory")
    with progress_bars(console) as bars:
        generate_dataset(layout, days, data, seed=seed, on_progress=bars.fraction("simulating history"))
        on_train = bars.staged("training models", prefix="training: ")
        card = train_and_register(TrainOptions(data=data, folds=0), registry, TrainConfig(), on_train)
    console.print(f"stored model [bold]{card.version}[/] ({', '.join(card.models)})")
    return card.version


def sink_for_engine(engine: Engine) -> CommandSink:
    """A command sink that applies a command to the in-process simulator: returns the machine's answer, raises on a
    refused one (the twin writes the command's one event: the engine does not echo it)."""

    async def sink(message: CommandMessage) -> str:
        if message.machine_id not in engine.index:  # a machine of the layout the simulator does not run
            raise NotServed(message.machine_id)
        outcome = apply_command(engine, message.machine_id, message, message.id, echo=False)
        if not outcome.accepted:
            raise ValueError(outcome.message)
        return outcome.message

    return sink


def opcua_connector(layout: FactoryLayout, endpoint: str) -> dict[str, Any]:
    """The connector that reads the simulator's OPC UA server as a plant's PLC would be read: every sensor variable
    of every simulated machine mapped to its sensor, and each machine's methods as its commands
    (``<machine>.<command>``: one server serves them all)."""
    from factorytwin.sim.opcua_space import plan_address_space

    def node(member: str) -> str:
        return f"ns={SIM_NAMESPACE_INDEX};s={member}"

    mappings: list[dict[str, Any]] = []
    commands: dict[str, dict[str, Any]] = {}
    for m in plan_address_space(layout):
        mappings += [{"node_id": node(s.node_id), "machine_id": m.machine_id, "sensor": s.key} for s in m.sensors]
        for spec, method_id in m.method_ids:
            command: dict[str, Any] = {
                "kind": "method",
                "object_node_id": node(m.node_id),
                "method_node_id": node(method_id),
            }
            if spec.inputs:
                command["arg_types"] = ["Double" for _ in spec.inputs]
            commands[f"{m.machine_id}.{spec.command.value}"] = command
    return {
        "kind": "opcua",
        "id": "simulator-opcua",
        "endpoint": endpoint,
        "publishing_interval_ms": 500,
        "mappings": mappings,
        "commands": commands,
        "backoff": {"initial_s": 0.5, "max_s": 5.0},
    }


SIM_NAMESPACE_INDEX = 2
"""The simulator's namespace is the first its server registers: index 2 (0 and 1 are OPC UA's own)."""


async def run_demo(
    settings: Settings,
    layout: FactoryLayout,
    speed: float,
    seed: int,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str, DemoAccess], None] | None = None,
    sink_for: Callable[[Engine], CommandSink] | None = None,
    opcua_port: int | None = None,
) -> None:
    """Serve the twin and run the simulator against it until ``stop`` is set (by default: SIGINT/SIGTERM).

    ``on_ready`` is called with the server's base URL and the demo's access once it accepts connections.
    The simulator runs the machines of ``layout``; the twin those of ``settings.layout_path`` (the same by default;
    a machine only the twin knows reports by itself and has no command receiver). Without MQTT, commands reach the
    simulator through ``sink_for(engine)`` (default: ``apply_command``; the browser tests wrap it to inject faults).
    The server reads time at the simulator's ``speed`` (``time_scale``), whatever ``settings`` said.

    With ``opcua_port`` the simulator serves its machines over OPC UA on that port (on 127.0.0.1) and the twin reads
    them through an OPC UA connector (``opcua_connector``), commands included: nothing goes over HTTP or MQTT.
    """
    settings = settings.model_copy(update={"time_scale": speed})
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    async with BackgroundServer(settings, port=settings.port, log_level="warning") as server:
        engine = Engine(layout, seed=seed, start=datetime.now(UTC), demo_faults=True)
        services: Services = server.app.state.services
        opcua = None
        if opcua_port is not None:
            from factorytwin.connectors import parse_connector
            from factorytwin.sim.opcua_server import OpcUaOptions

            opcua = OpcUaOptions(url=f"opc.tcp://127.0.0.1:{opcua_port}")
            if services.connectors is not None and "simulator-opcua" not in {
                v.config.id for v in services.connectors.views()
            }:  # a restarted demo finds its connector stored
                config = parse_connector(opcua_connector(layout, f"opc.tcp://127.0.0.1:{opcua_port}"))
                await services.connectors.create(config, "demo")
        elif settings.mqtt_url is None and services.twin is not None:
            services.twin.commands.add_sink((sink_for or sink_for_engine)(engine))
        url = f"http://{'localhost' if settings.host in {'127.0.0.1', '0.0.0.0'} else settings.host}:{server.port}"
        access = await demo_access(services.auth, url)
        if access.new_password is not None:
            console.print(
                f"created the user [bold]{DEMO_ADMIN}[/] (admin) with the password [bold]{access.new_password}[/] "
                f"(shown once; change it with `factorytwin users passwd {DEMO_ADMIN}`)"
            )
        console.print(
            f"\n[bold green]factorytwin is running:[/] [link={url}]{url}[/]  "
            f"(API docs {url}/docs; simulator at {speed:g}x over {_transport(settings, opcua_port)}; "
            f"store {redact_url(settings.database_url)})\n"
            f"Open the dashboard, logged in: [link={access.login_url}]{access.login_url}[/]\n"
            "(a one-time link, valid 10 minutes; afterwards log in with your user name and password)\n"
            "Press Ctrl-C to stop.\n",
            soft_wrap=True,
        )
        if on_ready is not None:
            on_ready(server.url, access)
        try:
            stats = await run_realtime(
                layout,
                target=None if settings.mqtt_url or opcua else server.url,
                mqtt_url=MqttEndpoint.from_settings(settings) if settings.mqtt_url and not opcua else None,
                opcua=opcua,
                speed=speed,
                engine=engine,
                stop=stop,
                token=access.simulator_token,
            )
        finally:
            with contextlib.suppress(Exception):  # the token expires by itself within a day anyway
                await services.auth.revoke_token(access.simulator_token_name, DEMO_CTX)
        console.print(
            f"stopping: simulated {stats.simulated_s / 3600:.1f} h, sent {stats.readings} reading sets "
            f"and {stats.events} events"
        )


def _transport(settings: Settings, opcua_port: int | None) -> str:
    if opcua_port is not None:
        return f"OPC UA (opc.tcp://127.0.0.1:{opcua_port}, read by a connector)"
    return "MQTT" if settings.mqtt_url else "HTTP"


def demo_command(
    port: Annotated[int, typer.Option(help="port of the API and dashboard")] = 8000,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    speed: Annotated[float, typer.Option(help="simulated seconds per wall-clock second")] = 60.0,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 0,
    postgres: Annotated[
        str | None, typer.Option(help="postgresql://... to store in PostgreSQL instead of the embedded SQLite")
    ] = None,
    mqtt: Annotated[str | None, typer.Option(help="mqtt[s]://host:port: telemetry, commands and bus over MQTT")] = None,
    layout_path: Annotated[Path | None, typer.Option("--layout", help="factory layout YAML/JSON")] = None,
    train_days: Annotated[float, typer.Option(help="simulated days to train the first model on")] = 30.0,
    opcua: Annotated[
        int | None,
        typer.Option(help="serve the simulator over OPC UA on this port and read it with a connector, as a plant"),
    ] = None,
) -> None:
    """Start the whole twin: API, dashboard, real-time simulator, and a model trained at first start."""
    try:
        settings = Settings(
            host=host,
            port=port,
            database_url=postgres or DEMO_DATABASE_URL,
            mqtt_url=mqtt,
            layout_path=layout_path,
            time_scale=speed,
        )
        layout = load_layout(settings.layout_path)
    except (ValidationError, LayoutError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    Path("var").mkdir(exist_ok=True)
    try:  # before minutes of training: one line if the port is taken
        listen_socket(settings.host, settings.port).close()
    except OSError as exc:
        typer.echo(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    try:
        asyncio.run(check_connections(settings))  # and if the store or the broker cannot be used
        ensure_model(settings, layout, train_days, seed)
        asyncio.run(run_demo(settings, layout, speed, seed, opcua_port=opcua))
    except (FactoryTwinError, OSError) as exc:  # TrainingDataError and ServerStartError are FactoryTwinErrors
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
