"""OPC UA without a server: data changes mapped (status, type, timestamps), arguments typed for commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from asyncua import ua

from factorytwin.connectors.models import OpcUaConnector, OpcUaMethodCommand, parse_connector
from factorytwin.connectors.opcua import OpcUaConnectorRuntime, _method_args, _plain, _variant, canonical_node_id
from factorytwin.errors import InvalidInput
from factorytwin.ingest import IngestService
from tests.unit.connectors.fakes import T0, FakeClock

SOURCE = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
SERVER = SOURCE + timedelta(milliseconds=5)


def config(**over: Any) -> OpcUaConnector:
    parsed = parse_connector(
        {
            "kind": "opcua",
            "id": "u",
            "endpoint": "opc.tcp://127.0.0.1:4840",
            "mappings": [
                {"node_id": "ns=2;s=Flow", "machine_id": "pump-01", "sensor": "flow_rate", "scale": 60.0},
                {"node_id": "ns=0;i=5000", "machine_id": "pump-01", "sensor": "motor_speed"},
            ],
        }
        | over
    )
    assert isinstance(parsed, OpcUaConnector)
    return parsed


def change(
    value: Any, status: int = 0, source: datetime | None = SOURCE, server: datetime | None = SERVER
) -> ua.DataValue:
    variant = ua.Variant(value)
    code = ua.StatusCode(ua.UInt32(status))
    return ua.DataValue(variant, code, SourceTimestamp=_ua_time(source), ServerTimestamp=_ua_time(server))


def _ua_time(ts: datetime | None) -> ua.DateTime | None:
    return cast("ua.DateTime | None", ts)  # asyncua types its timestamps as its own datetime alias


def queued(conn: OpcUaConnectorRuntime) -> list[Any]:
    items = []
    while not conn._queue.empty():
        items.append(conn._queue.get_nowait())
    return items


def test_node_ids_are_compared_in_asyncua_s_own_spelling() -> None:
    assert canonical_node_id("ns=0;i=5000") == "i=5000"
    assert canonical_node_id("ns=2;s=Flow") == "ns=2;s=Flow"


async def test_a_change_is_converted_and_stamped_with_the_source_time(ingest: IngestService) -> None:
    conn = OpcUaConnectorRuntime(config(), ingest, clock=FakeClock())
    conn.on_data_change("ns=2;s=Flow", 1.5, change(1.5))
    conn.on_data_change("i=5000", 2900, change(2900))  # an integer is a number too
    [flow, speed] = queued(conn)
    assert (flow.machine_id, flow.sensor, flow.value, flow.ts, flow.source) == (
        "pump-01",
        "flow_rate",
        90.0,
        SOURCE,
        "ns=2;s=Flow",
    )
    assert (speed.sensor, speed.value) == ("motor_speed", 2900.0)


async def test_the_server_time_or_the_arrival_time_stands_in(ingest: IngestService) -> None:
    conn = OpcUaConnectorRuntime(config(), ingest, clock=FakeClock())
    conn.on_data_change("ns=2;s=Flow", 1.0, change(1.0, source=None))
    conn.on_data_change("ns=2;s=Flow", 1.0, change(1.0, source=None, server=None))
    conn.on_data_change("ns=2;s=Flow", 1.0, change(1.0, source=SOURCE.replace(tzinfo=None)))  # naive: UTC
    assert [v.ts for v in queued(conn)] == [SERVER, T0, SOURCE]
    arrival = OpcUaConnectorRuntime(config(source_timestamps=False), ingest, clock=FakeClock())
    arrival.on_data_change("ns=2;s=Flow", 1.0, change(1.0))
    assert [v.ts for v in queued(arrival)] == [T0]


@pytest.mark.parametrize(
    ("node", "value", "status", "why"),
    [
        ("ns=2;s=Other", 1.0, 0, "no mapping for this node"),
        ("ns=2;s=Flow", 1.0, 0x80000000, "status Bad"),
        ("ns=2;s=Flow", True, 0, "bool 'True' is not a number"),
        ("ns=2;s=Flow", "12", 0, "str '12' is not a number"),
    ],
)
async def test_unusable_changes_are_unmapped(
    ingest: IngestService, caplog: pytest.LogCaptureFixture, node: str, value: Any, status: int, why: str
) -> None:
    conn = OpcUaConnectorRuntime(config(), ingest)
    conn.on_data_change(node, value, change(value, status))
    assert conn.status().unmapped_total == 1
    assert queued(conn) == []
    assert f"unmapped value from {node}: {why}" in caplog.text


def test_outputs_become_plain_json() -> None:
    assert _plain(ua.Variant(3.0)) == 3.0
    assert _plain([1, ua.Variant("a"), (True, None)]) == [1, "a", [True, None]]
    assert _plain(SOURCE) == SOURCE.isoformat()
    assert _plain(ua.NodeId.from_string("ns=2;i=5")) == str(ua.NodeId.from_string("ns=2;i=5"))  # anything else: text


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [(3, "Double", 3.0), (1.5, "Float", 1.5), (True, "Boolean", True), ("on", "String", "on"), (-5, "Int16", -5)],
)
def test_arguments_are_typed(value: Any, type_name: str, expected: Any) -> None:
    variant = _variant(value, type_name, ("args", 0))
    assert variant.Value == expected
    assert variant.VariantType == ua.VariantType[type_name]


@pytest.mark.parametrize(
    ("value", "type_name", "why"),
    [
        (True, "Double", "Double expected, got bool"),
        (1.5, "Int32", "Int32 expected, got float"),
        (40000, "Int16", "40000 is outside the range of Int16"),
        (-1, "UInt32", "outside the range of UInt32"),
        (1, "Boolean", "Boolean expected, got int"),
    ],
)
def test_arguments_that_do_not_fit_are_refused_naming_them(value: Any, type_name: str, why: str) -> None:
    with pytest.raises(InvalidInput) as info:
        _variant(value, type_name, ("args", 2))
    [problem] = info.value.problems
    assert problem.loc == ("args", 2)
    assert why in problem.msg


def test_untyped_method_arguments_pass_as_given() -> None:
    command = OpcUaMethodCommand(kind="method", object_node_id="ns=2;i=1", method_node_id="ns=2;i=2")
    assert _method_args(command, [1, "x"]) == [1, "x"]
