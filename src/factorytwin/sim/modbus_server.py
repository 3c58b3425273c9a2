"""The simulator as a Modbus TCP server (pymodbus): one unit id per machine, the map of ``modbus_map``.

pymodbus keeps each unit's registers in its own memory; a per-unit *action* runs before every request on the
server's event loop (the real-time driver's loop), and it fills in what the request reads from the simulator
(the latest tick's sensor values; the status, setpoint and run flag as they are now) or turns what a request writes into
a command: holding register 0 -> SetSpeed, coil 0 -> Start/Stop (``sim.commands.apply_command``). A setpoint
outside 0-1200 is refused with exception code 3 (illegal data value) and changes nothing; a command the machine
cannot follow (start while it has failed) is answered with exception code 4 (server device failure). A unit id no
machine has is answered with exception code 11 (gateway target device failed to respond), as a gateway would.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from factorytwin.domain import Command, CommandKind
from factorytwin.errors import InvalidInput
from factorytwin.sim.commands import apply_command
from factorytwin.sim.engine import Engine
from factorytwin.sim.modbus_map import (
    INPUT_REGISTERS,
    RUN_COIL,
    RUNNING_INPUT,
    SETPOINT_REGISTER,
    STATUS_REGISTER,
    UnitMap,
    input_registers,
    register_map,
    setpoint_register,
    speed_from_register,
)
from factorytwin.sim.state import RUNNING, Frame

log = logging.getLogger("factorytwin.sim.modbus")
ISSUED_BY = "modbus"
READ_COILS, READ_DISCRETE, READ_HOLDING, READ_INPUT = 1, 2, 3, 4
WRITE_COIL, WRITE_REGISTER, WRITE_COILS, WRITE_REGISTERS = 5, 6, 15, 16
Action = Callable[
    [int, int, int, int, list[int], list[int] | list[bool] | None], Coroutine[None, None, ExcCodes | None]
]


class ModbusSimServer:
    """A Modbus TCP server over an ``Engine``: ``start``, ``update`` on each tick, ``stop``."""

    def __init__(self, engine: Engine, port: int, host: str = "0.0.0.0") -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"--modbus {port}: a TCP port is 0-65535")
        self.engine = engine
        self.host = host
        self.requested_port = port
        self.units = register_map(engine.layout)
        self.inputs = [input_registers(u, {}, int(engine.status[u.index])) for u in self.units]  # NaN until a tick
        self.server: ModbusTcpServer | None = None
        self.commands = 0
        self.refused = 0
        self.ticks = 0  # ticks served so far

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose when asked for port 0)."""
        transport = self.server.transport if self.server is not None else None
        sockets = getattr(transport, "sockets", None)
        if not sockets:
            raise RuntimeError("the Modbus server is not started")
        return int(sockets[0].getsockname()[1])

    def _device(self, unit: UnitMap) -> SimDevice:
        i = unit.index
        return SimDevice(
            id=unit.unit_id,
            simdata=(
                [SimData(RUN_COIL, values=[bool(self.engine.wanted_run[i])], datatype=DataType.BITS)],
                [SimData(RUNNING_INPUT, values=[bool(self.engine.status[i] == RUNNING)], datatype=DataType.BITS)],
                [
                    SimData(
                        SETPOINT_REGISTER,
                        values=setpoint_register(float(self.engine.speed_pct[i])),
                        datatype=DataType.REGISTERS,
                    )
                ],
                [SimData(0, values=self.inputs[i], datatype=DataType.REGISTERS)],
            ),
            action=self._action(unit),
        )

    async def start(self) -> None:
        """Listen; ``OSError`` in one line when the port is taken."""
        devices = [self._device(u) for u in self.units] + [_no_such_unit()]
        server = ModbusTcpServer(devices, address=(self.host, self.requested_port))
        logger = logging.getLogger("pymodbus.logging")
        before = logger.disabled
        logger.disabled = True  # pymodbus logs its own warning; ours below says it once
        try:
            listening = await server.listen()
        finally:
            logger.disabled = before
        if not listening:
            raise OSError(
                f"Modbus TCP server cannot listen on {self.host}:{self.requested_port}: address already in use"
                " (or not allowed)"
            )
        self.server = server
        log.info("Modbus TCP server on %s:%d, unit ids 1-%d", self.host, self.port, len(self.units))

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self.server is not None:
            server, self.server = self.server, None
            with contextlib.suppress(Exception):
                await server.shutdown()  # type: ignore[no-untyped-call]

    async def update(self, frame: Frame) -> None:
        """Keep the last sample of every sensor and every status for the next reads."""
        row = frame.n - 1
        for u in self.units:
            self.inputs[u.index] = input_registers(
                u, frame.machine_values(row, u.index), int(self.engine.status[u.index])
            )
        self.ticks += 1

    # ---------------------------------------------------------------------------------------------- requests
    def _action(self, unit: UnitMap) -> Action:
        async def action(
            function_code: int,
            start_address: int,
            address: int,
            count: int,
            registers: list[int],
            set_values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            return self.handle(unit, function_code, registers, set_values)

        return action

    def handle(
        self, unit: UnitMap, function_code: int, registers: list[int], set_values: list[int] | list[bool] | None
    ) -> ExcCodes | None:
        """Serve one request of ``unit``: refresh what it reads in ``registers`` (the unit's table, in place) or
        apply what it writes; an exception code refuses the request (nothing is written then)."""
        i = unit.index
        if function_code == READ_INPUT:
            registers[:INPUT_REGISTERS] = self.inputs[i]
            registers[STATUS_REGISTER] = int(self.engine.status[i])  # now, not at the last tick: a Stop shows at once
        elif function_code == READ_DISCRETE:
            registers[0] = int(self.engine.status[i] == RUNNING)
        elif function_code in (READ_HOLDING, WRITE_REGISTER, WRITE_REGISTERS) and set_values is None:
            registers[0] = setpoint_register(float(self.engine.speed_pct[i]))
        elif function_code in (READ_COILS, WRITE_COIL, WRITE_COILS) and set_values is None:
            registers[0] = int(bool(self.engine.wanted_run[i]))
        elif function_code in (WRITE_REGISTER, WRITE_REGISTERS) and set_values:
            try:
                pct = speed_from_register(int(set_values[0]))
            except ValueError as exc:
                return self._refuse(unit, str(exc))
            return self._command(unit, Command(command=CommandKind.SET_SPEED, speed_pct=pct, issued_by=ISSUED_BY))
        elif function_code in (WRITE_COIL, WRITE_COILS) and set_values:
            kind = CommandKind.START if bool(set_values[0]) else CommandKind.STOP
            return self._command(unit, Command(command=kind, issued_by=ISSUED_BY))
        return None

    def _refuse(self, unit: UnitMap, why: str) -> ExcCodes:
        self.commands += 1
        self.refused += 1
        log.warning("refused Modbus write to unit %d (%s): %s", unit.unit_id, unit.machine_id, why)
        return ExcCodes.ILLEGAL_VALUE

    def _command(self, unit: UnitMap, command: Command) -> ExcCodes | None:
        self.commands += 1
        try:
            outcome = apply_command(self.engine, unit.machine_id, command)
        except InvalidInput as exc:  # pragma: no cover - the register map only makes valid commands
            self.refused += 1
            log.warning("refused Modbus command to %s: %s", unit.machine_id, exc)
            return ExcCodes.ILLEGAL_VALUE
        log.info("Modbus %s to %s: %s", command.command.value, unit.machine_id, outcome.message)
        if not outcome.accepted:
            self.refused += 1
            return ExcCodes.DEVICE_FAILURE
        return None


async def _gateway_no_response(
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    registers: list[int],
    set_values: list[int] | list[bool] | None,
) -> ExcCodes | None:
    return ExcCodes.GATEWAY_NO_RESPONSE


def _no_such_unit() -> SimDevice:
    """pymodbus' device 0, which answers every unit id no machine has: with exception 11, as a gateway would."""

    def bits() -> list[SimData]:
        return [SimData(0, values=[False], datatype=DataType.BITS)]

    def words() -> list[SimData]:
        return [SimData(0, count=INPUT_REGISTERS, datatype=DataType.REGISTERS)]

    return SimDevice(id=0, simdata=(bits(), bits(), words(), words()), action=_gateway_no_response)
