"""The simulator's OPC UA address space as plain data: which nodes, with which ids, units, ranges and methods.

Pure: nothing here starts a server (``opcua_server`` builds the nodes from this plan), so node ids, units and the
mapping of method calls to commands are tested without one. All node ids are string ids in the namespace
``urn:factorytwin:sim`` (``ns=<idx>;s=<id>``, ``idx`` being that URI's index in the server's NamespaceArray):

=====================================  ===================================================================
``Factory``                            folder under Objects holding one object per machine
``<machine>``                          the machine (browse name = machine id, display name = machine name)
``<machine>.<sensor>``                 AnalogItem, Double, in the catalogue's unit
``<machine>.<sensor>.EngineeringUnits``  EUInformation (UNECE Rec. 20 code, as OPC UA Part 8 prescribes)
``<machine>.<sensor>.EURange``         Range: the sensor's physical range
``<machine>.State``                    String: running, idle, stopped, failed, maintenance
``<machine>.SpeedSetpoint``            Double, percent of nominal speed
``<machine>.Kind``                     property, String: the machine kind (cnc_mill, pump, ...)
``<machine>.Start`` ``.Stop`` ...      methods, one per command of ``sim.commands`` (see ``METHODS``)
=====================================  ===================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from asyncua import ua
from asyncua.ua.status_codes import StatusCodes

from factorytwin.domain import CATALOGUE, Command, CommandKind, FactoryLayout, MachineKind, kind_of
from factorytwin.errors import InvalidInput
from factorytwin.sim.commands import parse_command

NAMESPACE_URI = "urn:factorytwin:sim"
FOLDER_ID = "Factory"
CEFACT_URI = "http://www.opcfoundation.org/UA/units/un/cefact"
ISSUED_BY = "opcua"


@dataclass(frozen=True, slots=True)
class UnitCode:
    """A unit as UNECE Recommendation 20 names it: the common code, its symbol and its name."""

    code: str
    symbol: str
    name: str

    @property
    def unit_id(self) -> int:
        """The OPC UA UnitId of the code (Part 8: the code's ASCII characters, packed big-endian into an int)."""
        value = 0
        for char in self.code:
            value = (value << 8) | ord(char)
        return value


# Every unit of the sensor catalogue (a unit test keeps this complete).
UNITS: dict[str, UnitCode] = {
    "K": UnitCode("KEL", "K", "kelvin"),
    "rpm": UnitCode("RPM", "r/min", "revolutions per minute"),
    "Nm": UnitCode("NU", "N·m", "newton metre"),
    "kW": UnitCode("KWT", "kW", "kilowatt"),
    "min": UnitCode("MIN", "min", "minute [unit of time]"),
    "mm/s": UnitCode("C16", "mm/s", "millimetre per second"),
    "A": UnitCode("AMP", "A", "ampere"),
    "bar": UnitCode("BAR", "bar", "bar [unit of pressure]"),
    "kN": UnitCode("B47", "kN", "kilonewton"),
    "1/min": UnitCode("C94", "min⁻¹", "reciprocal minute"),
    "%": UnitCode("P1", "%", "percent"),
    "m3/h": UnitCode("MQH", "m³/h", "cubic metre per hour"),
    "m/s": UnitCode("MTS", "m/s", "metre per second"),
    "kg": UnitCode("KGM", "kg", "kilogram"),
    "s": UnitCode("SEC", "s", "second [unit of time]"),
    "mm": UnitCode("MMT", "mm", "millimetre"),
}


def eu_information(unit: str) -> ua.EUInformation:
    """The EngineeringUnits value of a sensor in ``unit``; UnitId -1 (Part 8: "not known") for a unit not listed."""
    known = UNITS.get(unit)
    if known is None:
        return ua.EUInformation(
            NamespaceUri=CEFACT_URI, UnitId=-1, DisplayName=ua.LocalizedText(unit), Description=ua.LocalizedText(unit)
        )
    return ua.EUInformation(
        NamespaceUri=CEFACT_URI,
        UnitId=known.unit_id,
        DisplayName=ua.LocalizedText(known.symbol),
        Description=ua.LocalizedText(known.name),
    )


@dataclass(frozen=True, slots=True)
class MethodArgument:
    """One input argument of a method: name, data type, description."""

    name: str
    variant: ua.VariantType
    description: str


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A method on every machine object and the command it sends."""

    name: str
    command: CommandKind
    inputs: tuple[MethodArgument, ...] = ()
    description: str = ""


METHODS: tuple[MethodSpec, ...] = (
    MethodSpec("Start", CommandKind.START, description="Start the machine (after a repair if it has failed)."),
    MethodSpec("Stop", CommandKind.STOP, description="Stop the machine; it stays stopped until started."),
    MethodSpec(
        "SetSpeed",
        CommandKind.SET_SPEED,
        (MethodArgument("speed_pct", ua.VariantType.Double, "percent of nominal speed, 0-120"),),
        "Run at a percentage of nominal speed (0 idles the machine).",
    ),
    MethodSpec("Maintain", CommandKind.MAINTAIN, description="Start a full maintenance (every wear part renewed)."),
)
"""Every method answers two output arguments: Accepted (Boolean) and Message (String, what the machine says)."""

OUTPUTS: tuple[MethodArgument, ...] = (
    MethodArgument("Accepted", ua.VariantType.Boolean, "whether the machine follows the command"),
    MethodArgument("Message", ua.VariantType.String, "what the machine says about it"),
)


class MethodArgumentError(Exception):
    """A method call whose arguments cannot make a command: the OPC UA status code of the call and of each input."""

    def __init__(self, status: int, argument_status: list[int], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.argument_status = argument_status


def command_for_call(spec: MethodSpec, args: list[object]) -> Command:
    """The ``Command`` a call of ``spec`` with input values ``args`` stands for; ``MethodArgumentError`` if bad.

    A missing argument is BadArgumentsMissing, an extra one BadTooManyArguments, a value that is not a number
    BadInvalidArgument with BadTypeMismatch for it, a number out of range BadInvalidArgument with BadOutOfRange.
    """
    if len(args) < len(spec.inputs):
        missing = ", ".join(a.name for a in spec.inputs[len(args) :])
        raise MethodArgumentError(StatusCodes.BadArgumentsMissing, [], f"{spec.name} needs {missing}")
    if len(args) > len(spec.inputs):
        raise MethodArgumentError(
            StatusCodes.BadTooManyArguments, [], f"{spec.name} takes {len(spec.inputs)} argument(s)"
        )
    payload: dict[str, object] = {"command": spec.command.value, "issued_by": ISSUED_BY}
    for i, (arg, value) in enumerate(zip(spec.inputs, args, strict=True)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            codes = [StatusCodes.Good] * len(args)
            codes[i] = StatusCodes.BadTypeMismatch
            raise MethodArgumentError(StatusCodes.BadInvalidArgument, codes, f"{arg.name} must be a number")
        payload[arg.name] = float(value)
    try:
        return parse_command(payload)
    except InvalidInput as exc:
        codes = [StatusCodes.BadOutOfRange] * len(args)
        raise MethodArgumentError(StatusCodes.BadInvalidArgument, codes, str(exc)) from exc


@dataclass(frozen=True, slots=True)
class SensorNode:
    """One sensor variable of a machine."""

    node_id: str
    key: str
    label: str
    unit: str
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class MachineNode:
    """One machine object and what hangs under it."""

    index: int  # the engine's machine index
    node_id: str
    machine_id: str
    name: str
    kind: MachineKind
    sensors: tuple[SensorNode, ...]
    state_id: str
    setpoint_id: str
    kind_id: str
    method_ids: tuple[tuple[MethodSpec, str], ...]

    def all_ids(self) -> list[str]:
        """Every node id this machine owns (its sensors' properties included)."""
        ids = [self.node_id, self.state_id, self.setpoint_id, self.kind_id]
        for s in self.sensors:
            ids += [s.node_id, eu_property_id(s.node_id), range_property_id(s.node_id)]
        return ids + [node_id for _, node_id in self.method_ids]


def member_id(machine_id: str, member: str) -> str:
    """The string node id of ``member`` (a sensor key, State, a method...) of machine ``machine_id``."""
    return f"{machine_id}.{member}"


def eu_property_id(variable_id: str) -> str:
    """The node id of a sensor variable's EngineeringUnits property."""
    return f"{variable_id}.EngineeringUnits"


def range_property_id(variable_id: str) -> str:
    """The node id of a sensor variable's EURange property."""
    return f"{variable_id}.EURange"


def plan_address_space(layout: FactoryLayout) -> tuple[MachineNode, ...]:
    """The machines of ``layout`` as OPC UA nodes, in layout order; ``ValueError`` if two nodes would share an id
    (machine ids may contain dots, so ``a.State`` could be a machine as well as machine ``a``'s State)."""
    plan = []
    for i, m in enumerate(layout.simulated().machines):
        sensors = tuple(
            SensorNode(node_id=member_id(m.id, s.key), key=s.key, label=s.label, unit=s.unit, low=s.low, high=s.high)
            for s in CATALOGUE[kind_of(m)]
        )
        plan.append(
            MachineNode(
                index=i,
                node_id=m.id,
                machine_id=m.id,
                name=m.name,
                kind=kind_of(m),
                sensors=sensors,
                state_id=member_id(m.id, "State"),
                setpoint_id=member_id(m.id, "SpeedSetpoint"),
                kind_id=member_id(m.id, "Kind"),
                method_ids=tuple((spec, member_id(m.id, spec.name)) for spec in METHODS),
            )
        )
    owner: dict[str, str] = {FOLDER_ID: "the Factory folder"}
    for node in plan:
        for node_id in node.all_ids():
            if node_id in owner:
                raise ValueError(
                    f"OPC UA node id {node_id!r} of machine {node.machine_id!r} is already {owner[node_id]}:"
                    " rename one of the machines"
                )
            owner[node_id] = f"a node of machine {node.machine_id!r}"
    return tuple(plan)


def eu_range(sensor: SensorNode) -> ua.Range:
    """The EURange of a sensor: its physical range."""
    return ua.Range(Low=sensor.low, High=sensor.high)


def finite_or_none(value: float) -> float | None:
    """``value`` if it is a finite number, else None (such a reading is published with a Bad status)."""
    return value if math.isfinite(value) else None
