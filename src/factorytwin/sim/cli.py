"""``factorytwin simulate``: real-time to a server (HTTP/MQTT) and/or as OPC UA/Modbus servers, or fast mode to a
parquet data set."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from factorytwin.domain import kind_of
from factorytwin.errors import FactoryTwinError
from factorytwin.layout import load_layout
from factorytwin.mqtt import MqttEndpoint
from factorytwin.progress import progress_bars
from factorytwin.sim.dataset import Aggregation, generate_dataset
from factorytwin.sim.realtime import run_realtime
from factorytwin.sim.stats import failure_counts, failure_table, machines_per_kind, plot_failures

if TYPE_CHECKING:
    from factorytwin.sim.opcua_server import OpcUaOptions

console = Console()
_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_interval(text: str) -> float:
    """Seconds from ``60s``, ``1m``, ``5min``, ``1h``, ``1d`` or a bare number of seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in _UNITS or float(match.group(1)) <= 0:
        raise typer.BadParameter(f"{text!r}: give a positive interval such as 60s, 5min or 1h", param_hint="--every")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _parse_start(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--start") from None
    if start.tzinfo is None:
        raise typer.BadParameter(f"{text!r} needs a UTC offset, e.g. 2025-01-01T00:00Z", param_hint="--start")
    return start


def _opcua_options(url: str | None, cert: Path | None, key: Path | None) -> OpcUaOptions | None:
    """The OPC UA server's options from the flags (asyncua is imported only when the server is asked for)."""
    if url is None:
        return None
    from factorytwin.sim.opcua_server import OpcUaOptions

    return OpcUaOptions(url, cert=cert, key=key)


def _mqtt_endpoint(
    url: str | None,
    username: str | None,
    password: str | None,
    ca: Path | None,
    cert: Path | None,
    key: Path | None,
) -> MqttEndpoint | None:
    """The broker of ``--mqtt`` with its credentials and TLS files; ValueError naming what is wrong.

    Without ``--mqtt`` the others are not used (they may come from ``FT_MQTT_*`` variables meant for the server).
    """
    if url is None:
        return None
    try:
        return MqttEndpoint.parse(url, username=username, password=password, ca_file=ca, cert_file=cert, key_file=key)
    except ValueError as exc:
        raise ValueError(f"--mqtt: {exc}") from None


def simulate(
    realtime: Annotated[bool, typer.Option("--realtime", help="Run paced to the wall clock and publish.")] = False,
    target: Annotated[str | None, typer.Option(help="HTTP target, e.g. http://localhost:8000 (real time).")] = None,
    mqtt: Annotated[
        str | None,
        typer.Option(help="MQTT broker, e.g. mqtt://127.0.0.1:1883 or mqtts://user@host:8883 (TLS) (real time)."),
    ] = None,
    mqtt_username: Annotated[
        str | None,
        typer.Option(envvar="FT_MQTT_USERNAME", help="Broker user name (or in the --mqtt URL).", show_default=False),
    ] = None,
    mqtt_password: Annotated[
        str | None,
        typer.Option(
            envvar="FT_MQTT_PASSWORD",
            help="Broker password (or in the --mqtt URL). Prefer FT_MQTT_PASSWORD: an option or a URL shows in the "
            "process list.",
            show_default=False,
        ),
    ] = None,
    mqtt_ca: Annotated[
        Path | None,
        typer.Option(envvar="FT_MQTT_CA_FILE", help="CA bundle (PEM) of the broker's certificate, for mqtts://."),
    ] = None,
    mqtt_cert: Annotated[
        Path | None, typer.Option(envvar="FT_MQTT_CERT_FILE", help="Client certificate (PEM) for mqtts://.")
    ] = None,
    mqtt_key: Annotated[
        Path | None, typer.Option(envvar="FT_MQTT_KEY_FILE", help="Private key of --mqtt-cert.")
    ] = None,
    speed: Annotated[float, typer.Option(min=0.001, help="Speed-up over the wall clock (real time).")] = 60.0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same run.")] = 0,
    layout: Annotated[Path | None, typer.Option(help="Factory layout YAML/JSON (default: the built-in one).")] = None,
    days: Annotated[float, typer.Option(min=0.0, help="Simulated days (fast mode).")] = 1.0,
    out: Annotated[Path, typer.Option(help="Readings parquet file (fast mode).")] = Path("sim.parquet"),
    every: Annotated[str, typer.Option(help="Output interval of fast mode: 60s, 5min, 1h...")] = "60s",
    agg: Annotated[str, typer.Option(help="Value per interval in fast mode: mean or last.")] = "mean",
    start: Annotated[str | None, typer.Option(help="Simulated start time (fast mode), ISO 8601 UTC.")] = None,
    demo_faults: Annotated[
        bool, typer.Option("--demo-faults", help="Put a few machines close to failure so a demo shows faults early.")
    ] = False,
    plot: Annotated[Path | None, typer.Option(help="Also save the failure statistics as a PNG plot.")] = None,
    duration: Annotated[float | None, typer.Option(help="Stop a real-time run after this many wall seconds.")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="FT_TOKEN",
            help="Credential for --target: an API token (operator or above) or a device key. Prefer FT_TOKEN: "
            "an option shows in the process list.",
            show_default=False,
        ),
    ] = None,
    opcua: Annotated[
        str | None, typer.Option(help="Also serve the machines as an OPC UA server, e.g. opc.tcp://0.0.0.0:4840.")
    ] = None,
    opcua_cert: Annotated[
        Path | None, typer.Option(help="OPC UA server certificate (PEM/DER): Basic256Sha256 Sign/SignAndEncrypt.")
    ] = None,
    opcua_key: Annotated[Path | None, typer.Option(help="Private key (PEM/DER) of --opcua-cert.")] = None,
    modbus: Annotated[
        int | None, typer.Option(help="Also serve the machines as a Modbus TCP server on this port (all interfaces).")
    ] = None,
) -> None:
    """Simulate the factory: in real time to the API/MQTT (and/or as OPC UA/Modbus servers), or as fast as possible
    into a labelled data set."""
    try:
        plant = load_layout(layout)
        if (opcua_cert or opcua_key) and not opcua:
            raise typer.BadParameter("--opcua-cert/--opcua-key need --opcua opc.tcp://HOST:PORT")
        broker = _mqtt_endpoint(mqtt, mqtt_username, mqtt_password, mqtt_ca, mqtt_cert, mqtt_key)
        if realtime or target or mqtt or opcua or modbus is not None:
            if not (target or mqtt or opcua or modbus is not None):
                raise typer.BadParameter(
                    "give --target http://HOST:PORT, --mqtt mqtt://HOST:PORT, --opcua opc.tcp://HOST:PORT"
                    " and/or --modbus PORT"
                )
            opcua_options = _opcua_options(opcua, opcua_cert, opcua_key)
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
            for chatty in ("httpx", "asyncua", "pymodbus"):  # not a line per POST, session or request
                logging.getLogger(chatty).setLevel(logging.WARNING)
            outputs = [
                target,
                f"MQTT {broker}" if broker else None,
                opcua,
                f"modbus tcp port {modbus}" if modbus is not None else None,
            ]
            console.print(
                f"[bold]simulating[/] {len(plant.machines)} machines of {plant.name!r} at {speed:g}x"
                f" -> {', '.join(x for x in outputs if x)} (Ctrl-C to stop)"
            )
            try:
                stats = asyncio.run(
                    run_realtime(
                        plant,
                        target=target,
                        mqtt_url=broker,
                        speed=speed,
                        seed=seed,
                        demo_faults=demo_faults,
                        duration_s=duration,
                        token=token,
                        opcua=opcua_options,
                        modbus_port=modbus,
                    )
                )
            except KeyboardInterrupt:
                console.print("stopped")
                return
            console.print(
                f"produced {stats.readings} reading sets and {stats.events} events"
                f" over {stats.simulated_s / 3600:.1f} simulated hours; {stats.unsent} readings/events left unsent"
            )
            return
        if agg not in ("mean", "last"):
            raise typer.BadParameter("mean or last", param_hint="--agg")
        how: Aggregation = "mean" if agg == "mean" else "last"
        interval = parse_interval(every)
        if days <= 0:
            raise typer.BadParameter("must be more than 0 in fast mode", param_hint="--days")
        with progress_bars(console) as bars:
            summary = generate_dataset(
                plant,
                days,
                out,
                every_s=interval,
                how=how,
                seed=seed,
                start=_parse_start(start),
                demo_faults=demo_faults,
                on_progress=bars.fraction(f"simulating {len(plant.machines)} machines, {days:g} days"),
            )
        console.print(
            f"wrote {summary.rows:,} rows to {summary.readings_path} and {len(summary.events):,} events to "
            f"{summary.events_path} in {summary.wall_s:.1f} s ({summary.samples_per_s / 1e6:.1f} M sensor samples/s)"
        )
        machines = machines_per_kind(kind_of(m) for m in plant.simulated().machines)
        counts = failure_counts(summary.events)
        console.print(failure_table(counts, machines, days))
        if plot is not None:
            plot_failures(counts, machines, days, plot)
            console.print(f"plot saved to {plot}")
    except (FactoryTwinError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)  # one line, however long
        raise typer.Exit(code=2) from None
