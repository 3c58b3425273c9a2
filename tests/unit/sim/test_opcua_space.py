"""The OPC UA address-space plan: node ids, units (UNECE codes), ranges, and method calls -> commands."""

from __future__ import annotations

import pytest
from asyncua import ua
from asyncua.ua.status_codes import StatusCodes

from factorytwin.domain import CATALOGUE, CommandKind, FactoryLayout, Machine, MachineKind, ProductionLine
from factorytwin.sim.opcua_space import (
    CEFACT_URI,
    METHODS,
    UNITS,
    MethodArgumentError,
    MethodSpec,
    UnitCode,
    command_for_call,
    eu_information,
    plan_address_space,
)


def _layout(*machines: tuple[str, MachineKind]) -> FactoryLayout:
    return FactoryLayout(
        name="t",
        lines=[ProductionLine(id="l1", name="Line 1")],
        machines=[Machine(id=mid, name=f"Machine {mid}", profile=kind, line="l1", x=0, y=0) for mid, kind in machines],
    )


def _method(name: str) -> MethodSpec:
    return next(m for m in METHODS if m.name == name)


def test_every_catalogue_unit_has_a_unece_code() -> None:
    units = {s.unit for specs in CATALOGUE.values() for s in specs}
    assert units <= set(UNITS), units - set(UNITS)


def test_unit_id_packs_the_code_as_part_8_says() -> None:
    # Values of OPC UA's UNECE table: N·m is "NU" = 20053, mm/s is "C16" = 4403510, r/min is "RPM" = 5394509.
    assert UnitCode("NU", "N·m", "newton metre").unit_id == 20053
    assert UNITS["mm/s"].unit_id == 4403510
    assert UNITS["rpm"].unit_id == 5394509


def test_eu_information_of_a_known_and_an_unknown_unit() -> None:
    rpm = eu_information("rpm")
    assert rpm.NamespaceUri == CEFACT_URI
    assert rpm.UnitId == 5394509
    assert rpm.DisplayName == ua.LocalizedText("r/min")
    assert rpm.Description == ua.LocalizedText("revolutions per minute")
    odd = eu_information("furlong/fortnight")
    assert odd.UnitId == -1
    assert odd.DisplayName == ua.LocalizedText("furlong/fortnight")


def test_plan_names_every_node_of_a_machine_by_a_stable_string_id() -> None:
    (mill, pump) = plan_address_space(_layout(("mill-01", MachineKind.CNC_MILL), ("pump-01", MachineKind.PUMP)))
    assert (mill.index, pump.index) == (0, 1)
    assert mill.node_id == "mill-01"
    assert mill.name == "Machine mill-01"
    assert [s.key for s in mill.sensors] == [s.key for s in CATALOGUE[MachineKind.CNC_MILL]]
    speed = next(s for s in mill.sensors if s.key == "spindle_speed")
    assert (speed.node_id, speed.unit, speed.low, speed.high) == ("mill-01.spindle_speed", "rpm", 0.0, 6000.0)
    assert (pump.state_id, pump.setpoint_id, pump.kind_id) == ("pump-01.State", "pump-01.SpeedSetpoint", "pump-01.Kind")
    assert [node_id for _, node_id in pump.method_ids] == [
        "pump-01.Start",
        "pump-01.Stop",
        "pump-01.SetSpeed",
        "pump-01.Maintain",
    ]
    assert "pump-01.flow_rate.EngineeringUnits" in pump.all_ids()
    assert "pump-01.flow_rate.EURange" in pump.all_ids()


def test_there_is_one_method_per_command_the_simulator_accepts() -> None:
    assert sorted(m.command for m in METHODS) == sorted(CommandKind)
    assert [a.name for a in _method("SetSpeed").inputs] == ["speed_pct"]


@pytest.mark.parametrize("clash", ["mill.State", "Factory"])
def test_a_machine_id_that_would_reuse_a_node_id_is_refused(clash: str) -> None:
    with pytest.raises(ValueError, match=f"node id {clash!r}"):
        plan_address_space(_layout(("mill", MachineKind.CNC_MILL), (clash, MachineKind.PUMP)))


def test_set_speed_call_makes_a_set_speed_command_from_a_double_or_an_integer() -> None:
    command = command_for_call(_method("SetSpeed"), [80.5])
    assert (command.command, command.speed_pct, command.issued_by) == (CommandKind.SET_SPEED, 80.5, "opcua")
    assert command_for_call(_method("SetSpeed"), [75]).speed_pct == 75.0


def test_calls_without_arguments_make_their_command() -> None:
    assert command_for_call(_method("Stop"), []).command is CommandKind.STOP
    assert command_for_call(_method("Maintain"), []).command is CommandKind.MAINTAIN


def test_out_of_range_speed_is_an_invalid_argument_out_of_range() -> None:
    with pytest.raises(MethodArgumentError) as caught:
        command_for_call(_method("SetSpeed"), [500.0])
    assert caught.value.status == StatusCodes.BadInvalidArgument
    assert caught.value.argument_status == [StatusCodes.BadOutOfRange]
    assert "speed_pct" in str(caught.value)


@pytest.mark.parametrize("value", ["fast", True, None])
def test_a_speed_that_is_no_number_is_a_type_mismatch(value: object) -> None:
    with pytest.raises(MethodArgumentError) as caught:
        command_for_call(_method("SetSpeed"), [value])
    assert caught.value.status == StatusCodes.BadInvalidArgument
    assert caught.value.argument_status == [StatusCodes.BadTypeMismatch]


def test_missing_and_extra_arguments_have_their_status() -> None:
    with pytest.raises(MethodArgumentError) as missing:
        command_for_call(_method("SetSpeed"), [])
    assert missing.value.status == StatusCodes.BadArgumentsMissing
    with pytest.raises(MethodArgumentError) as extra:
        command_for_call(_method("Stop"), [1.0])
    assert extra.value.status == StatusCodes.BadTooManyArguments
