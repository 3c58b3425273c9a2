"""Connector configurations: each kind parses, and every refusal names its field."""

from __future__ import annotations

from typing import Any

import pytest

from factorytwin.connectors.models import (
    ModbusConnector,
    MqttJsonConnector,
    OpcUaConnector,
    OpcUaMethodCommand,
    OpcUaWriteCommand,
    check_targets,
    machine_sensors,
    parse_connector,
)
from factorytwin.errors import InvalidInput
from factorytwin.layout import load_layout

KNOWN = machine_sensors(load_layout().machines)


def opcua(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "opcua",
        "id": "plc-1",
        "endpoint": "opc.tcp://127.0.0.1:4840/ft/",
        "mappings": [{"node_id": "ns=2;s=Pump1.Flow", "machine_id": "pump-01", "sensor": "flow_rate"}],
    }
    return base | over


def modbus(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "modbus",
        "id": "mb-1",
        "host": "10.0.0.5",
        "registers": [{"address": 0, "machine_id": "pump-01", "sensor": "outlet_pressure", "data_type": "float32"}],
    }
    return base | over


def mqtt(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "mqtt_json",
        "id": "gw-1",
        "broker_url": "mqtt://127.0.0.1:1883",
        "topic_filters": ["plant/+/data"],
        "machine_id_topic_segment": 1,
        "values": [{"pointer": "/temp_c", "sensor": "bearing_temp", "offset": 273.15}],
    }
    return base | over


def errors(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(InvalidInput) as info:
        parse_connector(data)
    return [(p.loc, p.msg) for p in info.value.problems]


def test_each_kind_parses_to_its_model() -> None:
    assert isinstance(parse_connector(opcua()), OpcUaConnector)
    assert isinstance(parse_connector(modbus()), ModbusConnector)
    assert isinstance(parse_connector(mqtt()), MqttJsonConnector)


def test_an_unknown_kind_is_refused_naming_kind() -> None:
    [(loc, msg)] = errors({"kind": "profinet", "id": "x"})
    assert loc == ("kind",)
    assert "opcua" in msg
    assert "modbus" in msg
    assert "mqtt_json" in msg


def test_a_bad_field_is_named_by_its_path() -> None:
    [(loc, msg)] = errors(modbus(registers=[{"address": 70000, "machine_id": "pump-01", "sensor": "flow_rate"}]))
    assert loc == ("registers", 0, "address")
    assert "65535" in msg


def test_unknown_fields_are_refused() -> None:
    [(loc, _)] = errors(opcua(endpiont="opc.tcp://x"))
    assert loc == ("endpiont",)


def test_an_opcua_endpoint_must_be_opc_tcp() -> None:
    [(loc, _)] = errors(opcua(endpoint="http://plc:4840"))
    assert loc == ("endpoint",)


def test_a_node_id_must_have_the_string_form() -> None:
    [(loc, msg)] = errors(opcua(mappings=[{"node_id": "Pump1.Flow", "machine_id": "pump-01", "sensor": "flow_rate"}]))
    assert loc == ("mappings", 0, "node_id")
    assert "ns=2;i=5" in msg


def test_a_node_mapped_twice_is_refused() -> None:
    m = {"node_id": "ns=2;i=5", "machine_id": "pump-01", "sensor": "flow_rate"}
    assert errors(opcua(mappings=[m, m | {"sensor": "motor_speed"}])) == [
        (("mappings", 1, "node_id"), "ns=2;i=5 is already mapped by mappings.0")
    ]


def test_a_sensor_mapped_twice_is_refused() -> None:
    a = {"node_id": "ns=2;i=5", "machine_id": "pump-01", "sensor": "flow_rate"}
    assert errors(opcua(mappings=[a, a | {"node_id": "ns=2;i=6"}])) == [
        (("mappings", 1), "pump-01/flow_rate is already mapped by mappings.0")
    ]


def test_scale_must_be_finite() -> None:
    m = {"node_id": "ns=2;i=5", "machine_id": "pump-01", "sensor": "flow_rate", "scale": float("nan")}
    [(loc, _)] = errors(opcua(mappings=[m]))
    assert loc == ("mappings", 0, "scale")


def test_a_password_needs_a_username() -> None:
    assert errors(opcua(password="s3cret")) == [(("username",), "a password needs a username")]


def test_the_password_is_never_shown() -> None:
    config = parse_connector(opcua(username="ft", password="s3cret"))
    assert "s3cret" not in repr(config)
    assert isinstance(config, OpcUaConnector)
    assert config.password is not None
    assert config.password.get_secret_value() == "s3cret"


@pytest.mark.parametrize(
    ("security", "field"),
    [
        ({"policy": "None", "mode": "Sign"}, "mode"),
        ({"policy": "Basic256Sha256"}, "mode"),
        ({"policy": "Basic256Sha256", "mode": "SignAndEncrypt"}, "client_certificate"),
        ({"policy": "Basic256Sha256", "mode": "Sign", "client_certificate": "c.der"}, "client_private_key"),
    ],
)
def test_security_rules_name_their_field(security: dict[str, str], field: str) -> None:
    [(loc, _)] = errors(opcua(security=security))
    assert loc == ("security", field)


def test_a_complete_security_configuration_parses() -> None:
    config = parse_connector(
        opcua(
            security={
                "policy": "Basic256Sha256",
                "mode": "SignAndEncrypt",
                "client_certificate": "certs/client.der",
                "client_private_key": "certs/client.pem",
                "server_certificate": "certs/server.der",
            }
        )
    )
    assert isinstance(config, OpcUaConnector)
    assert config.security.mode == "SignAndEncrypt"


def test_commands_are_method_calls_or_writes() -> None:
    config = parse_connector(
        opcua(
            commands={
                "stop": {"kind": "method", "object_node_id": "ns=2;i=1", "method_node_id": "ns=2;i=7"},
                "set_speed": {"kind": "write", "node_id": "ns=2;i=8", "data_type": "Float"},
            }
        )
    )
    assert isinstance(config, OpcUaConnector)
    assert isinstance(config.commands["stop"], OpcUaMethodCommand)
    assert isinstance(config.commands["set_speed"], OpcUaWriteCommand)
    [(loc, _)] = errors(opcua(commands={"stop": {"kind": "write", "node_id": "ns=2;i=8", "data_type": "Complex"}}))
    assert loc == ("commands", "stop", "write", "data_type")


def test_a_32_bit_register_must_fit_the_address_space() -> None:
    reg = {"address": 65535, "machine_id": "pump-01", "sensor": "flow_rate", "data_type": "int32"}
    assert errors(modbus(registers=[reg])) == [
        (("registers", 0, "address"), "a int32 at 65535 runs past register 65535")
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("unit_id", 256), ("port", 0), ("poll_interval_s", 0.0), ("registers", []), ("host", "")],
)
def test_modbus_bounds_name_their_field(field: str, value: object) -> None:
    [(loc, _)] = errors(modbus(**{field: value}))
    assert loc == (field,)


def test_modbus_register_types_and_orders_are_closed_sets() -> None:
    reg = {"address": 1, "machine_id": "pump-01", "sensor": "flow_rate"}
    [(loc, _)] = errors(modbus(registers=[reg | {"data_type": "float64"}]))
    assert loc == ("registers", 0, "data_type")
    [(loc, _)] = errors(modbus(registers=[reg | {"word_order": "middle"}]))
    assert loc == ("registers", 0, "word_order")
    [(loc, _)] = errors(modbus(registers=[reg | {"table": "coils"}]))
    assert loc == ("registers", 0, "table")


def test_backoff_max_must_not_be_below_initial() -> None:
    assert errors(modbus(backoff={"initial_s": 5, "max_s": 1})) == [
        (("backoff", "max_s"), "1 s is below initial_s (5 s)")
    ]


def test_mqtt_needs_exactly_one_machine_source() -> None:
    [(loc, msg)] = errors(mqtt(machine_id="pump-01"))
    assert loc == ("machine_id",)
    assert msg.startswith("give exactly one of")
    assert "found: machine_id, machine_id_topic_segment" in msg
    [(_, msg)] = errors(mqtt(machine_id_topic_segment=None))
    assert "found: none" in msg


def test_the_machine_topic_segment_must_be_a_wildcard_level() -> None:
    [(loc, msg)] = errors(mqtt(machine_id_topic_segment=0))
    assert loc == ("machine_id_topic_segment",)
    assert "level 0 of topic filter 'plant/+/data' is 'plant'" in msg
    [(_, msg)] = errors(mqtt(machine_id_topic_segment=5))
    assert "has no level 5" in msg
    assert isinstance(parse_connector(mqtt(topic_filters=["plant/#"], machine_id_topic_segment=3)), MqttJsonConnector)


@pytest.mark.parametrize("topic", ["plant/#/x", "plant/a+", "", "a/b#"])
def test_bad_topic_filters_are_refused(topic: str) -> None:
    [(loc, _)] = errors(mqtt(topic_filters=[topic], machine_id="pump-01", machine_id_topic_segment=None))
    assert loc == ("topic_filters", 0)


@pytest.mark.parametrize("pointer", ["temp", "/a~2b"])
def test_bad_json_pointers_are_refused(pointer: str) -> None:
    [(loc, _)] = errors(mqtt(values=[{"pointer": pointer, "sensor": "bearing_temp"}]))
    assert loc == ("values", 0, "pointer")


def test_mqtt_values_or_a_name_value_pair_not_both() -> None:
    [(loc, msg)] = errors(mqtt(sensor_pointer="/name"))
    assert loc == ("values",)
    assert msg.startswith("give either values")
    [(loc, msg)] = errors(mqtt(values=[]))
    assert loc == ("values",)
    assert msg.startswith("map at least one value")
    [(loc, msg)] = errors(mqtt(values=[], sensor_pointer="/name", value_pointer="/v"))
    assert loc == ("sensors",)
    assert msg == "sensor_pointer, value_pointer and sensors go together"
    pair = parse_connector(
        mqtt(values=[], sensor_pointer="/name", value_pointer="/v", sensors={"Temp": {"sensor": "bearing_temp"}})
    )
    assert isinstance(pair, MqttJsonConnector)
    assert pair.effective_client_id == "factorytwin-conn-gw-1"


def test_targets_are_checked_against_the_factory() -> None:
    config = parse_connector(
        modbus(
            registers=[
                {"address": 0, "machine_id": "pump-01", "sensor": "flow_rate"},
                {"address": 1, "machine_id": "pump-99", "sensor": "flow_rate"},
                {"address": 2, "machine_id": "pump-01", "sensor": "spindle_speed"},
            ]
        )
    )
    problems = check_targets(config, KNOWN)
    assert [(p.loc, p.value) for p in problems] == [
        (("registers", 1, "machine_id"), "pump-99"),
        (("registers", 2, "sensor"), "spindle_speed"),
    ]
    assert check_targets(parse_connector(opcua()), KNOWN) == []


def test_targets_of_a_message_named_machine_need_a_sensor_some_machine_has() -> None:
    config = parse_connector(mqtt(values=[{"pointer": "/x", "sensor": "warp_drive"}]))
    [problem] = check_targets(config, KNOWN)
    assert problem.loc == ("values", 0, "sensor")
    static = parse_connector(
        mqtt(
            machine_id="nope",
            machine_id_topic_segment=None,
            values=[],
            sensor_pointer="/n",
            value_pointer="/v",
            sensors={"t": {"sensor": "bearing_temp"}},
        )
    )
    [problem] = check_targets(static, KNOWN)
    assert problem.loc == ("machine_id",)


def test_a_bad_password_is_not_echoed() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_connector(opcua(username="ft", password=12345))
    [problem] = info.value.problems
    assert problem.loc == ("password",)
    assert problem.value is None


def test_the_offending_value_is_echoed_when_it_is_a_scalar() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_connector(modbus(port=70000))
    assert [(p.loc, p.value) for p in info.value.problems] == [(("port",), 70000)]
