"""The OPC UA server's options and method calls, without a socket (the integration test runs a real one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from asyncua.ua.status_codes import StatusCodes

from factorytwin.domain import MachineKind
from factorytwin.sim.opcua_server import OpcUaOptions, OpcUaSimServer
from factorytwin.sim.opcua_space import METHODS, MethodSpec
from factorytwin.sim.state import FAILED, STOPPED

from .helpers import engine_for


def _server() -> OpcUaSimServer:
    return OpcUaSimServer(engine_for(MachineKind.CNC_MILL), OpcUaOptions("opc.tcp://127.0.0.1:0"))


def _method(name: str) -> MethodSpec:
    return next(m for m in METHODS if m.name == name)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:4840", "opc.tcp://"),
        ("opc.tcp://", "opc.tcp://"),
        ("opc.tcp://h:port", "not a number"),
        ("opc.tcp://h", "needs a port"),
    ],
)
def test_a_bad_url_is_refused(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        OpcUaOptions(url)


def test_certificate_and_key_go_together_and_must_exist(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    with pytest.raises(ValueError, match="give both or neither"):
        OpcUaOptions("opc.tcp://127.0.0.1:4840", cert=cert)
    with pytest.raises(ValueError, match="no such file"):
        OpcUaOptions("opc.tcp://127.0.0.1:4840", cert=cert, key=tmp_path / "missing.pem")
    assert OpcUaOptions("opc.tcp://127.0.0.1:4840", cert=cert, key=cert).secure


async def test_stop_call_stops_the_machine_and_answers_accepted() -> None:
    server = _server()
    result = await server.call(server.plan[0], _method("Stop"), [])
    assert result.StatusCode.is_good()
    assert [v.Value for v in result.OutputArguments] == [True, "stopped"]
    assert server.engine.status[0] == STOPPED
    assert server.engine.pending[0].data == {"command": "stop", "accepted": True, "issued_by": "opcua"}


async def test_start_of_a_failed_machine_is_answered_not_accepted() -> None:
    server = _server()
    server.engine.status[0] = FAILED
    result = await server.call(server.plan[0], _method("Start"), [])
    assert result.StatusCode.is_good()
    accepted, message = (v.Value for v in result.OutputArguments)
    assert accepted is False
    assert "failed" in message
    assert (server.commands, server.refused) == (1, 1)


async def test_set_speed_out_of_range_is_bad_invalid_argument_and_changes_nothing() -> None:
    server = _server()
    result = await server.call(server.plan[0], _method("SetSpeed"), [130.0])
    assert result.StatusCode.value == StatusCodes.BadInvalidArgument
    assert [c.value for c in result.InputArgumentResults] == [StatusCodes.BadOutOfRange]
    assert server.engine.speed_pct[0] == 100.0
    assert server.engine.pending == []
