"""`factorytwin simulate`'s server flags: how they combine, and one-line errors."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from factorytwin.cli import app as cli


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
