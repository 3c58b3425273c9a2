"""`factorytwin simulate`'s server flags: how they combine, and one-line errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factorytwin.cli import app as cli
from factorytwin.mqtt import MqttEndpoint
from factorytwin.sim import cli as sim_cli
from factorytwin.sim.realtime import RealtimeStats


def test_a_certificate_without_an_opcua_url_is_refused() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--opcua-cert", "cert.pem", "--opcua-key", "key.pem"])
    assert result.exit_code == 2
    assert "--opcua opc.tcp://HOST:PORT" in result.output


def test_a_url_that_is_not_opc_tcp_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--opcua", "http://0.0.0.0:4840"])
    assert result.exit_code == 2
    assert "error: --opcua must be an opc.tcp://HOST:PORT URL, not 'http://0.0.0.0:4840'\n" in result.output


def test_a_taken_modbus_port_is_one_line_and_no_traceback() -> None:
    with socket.socket() as other:
        other.bind(("0.0.0.0", 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(cli, ["simulate", "--modbus", str(port), "--duration", "5"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert f"cannot listen on 0.0.0.0:{port}" in line


def captured_broker(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]) -> MqttEndpoint:
    """The broker endpoint ``simulate`` hands to the real-time run for ``args`` and ``env`` (the run not started)."""
    seen: list[object] = []

    async def fake_run(layout: object, **kwargs: object) -> RealtimeStats:
        seen.append(kwargs["mqtt_url"])
        return RealtimeStats()

    monkeypatch.setattr(sim_cli, "run_realtime", fake_run)
    result = CliRunner().invoke(cli, ["simulate", *args], env=env)
    assert result.exit_code == 0, result.output
    [endpoint] = seen
    assert isinstance(endpoint, MqttEndpoint)
    return endpoint


def test_mqtt_credentials_come_from_the_url_or_from_options_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    in_url = captured_broker(monkeypatch, ["--mqtt", "mqtt://edge-1:pa%40ss@broker"], {})
    assert (in_url.username, in_url.password, in_url.port, in_url.tls) == ("edge-1", "pa@ss", 1883, None)
    by_env = captured_broker(
        monkeypatch,
        ["--mqtt", "mqtts://broker", "--mqtt-username", "edge-1"],
        {"FT_MQTT_PASSWORD": "from-env"},
    )
    assert (by_env.username, by_env.password, by_env.port) == ("edge-1", "from-env", 8883)
    assert by_env.tls is not None
    output = CliRunner().invoke(cli, ["simulate", "--mqtt", "mqtts://u:p@broker", "--mqtt-password", "x"]).output
    assert "not both" in output


def test_tls_files_need_mqtts_and_must_be_readable(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate\n")
    plain = CliRunner().invoke(cli, ["simulate", "--mqtt", "mqtt://broker", "--mqtt-ca", str(ca)])
    assert plain.exit_code == 2
    assert "need an mqtts:// URL" in plain.output
    unreadable = CliRunner().invoke(cli, ["simulate", "--mqtt", "mqtts://broker", "--mqtt-ca", str(ca)])
    assert unreadable.exit_code == 2
    assert "is not a readable PEM CA bundle" in unreadable.output
    assert "Traceback" not in unreadable.output
