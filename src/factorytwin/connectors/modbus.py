"""Modbus TCP: polls the mapped registers of one unit with pymodbus' ``AsyncModbusTcpClient``.

Each poll reads the registers in as few contiguous reads as the protocol allows (``decode.plan_reads``), decodes
each value (``decode.decode``), converts it (``scale``, ``offset``) and queues it for ingest, stamped with the
poll's time. Polls are paced: the next starts ``poll_interval_s`` after the previous one started (at once if a
poll took longer).

* A register that does not decode (a float32 NaN, which many devices send for "no measurement") is unmapped:
  counted and logged with its register; the other values of the poll are stored.
* A read the device answers with a Modbus exception (illegal address, gateway target failed) leaves the link up:
  the block's values are unmapped and ``last_error`` names the exception code.
* No answer within ``timeout_s``, or a closed socket, is a lost connection: the supervisor reconnects with its
  back-off (pymodbus' own reconnecting is switched off, so there is one policy and one status).
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from factorytwin.connectors.base import ConnectionLost, Connector, MappedValue, describe
from factorytwin.connectors.decode import DecodeError, ReadBlock, RegisterRef, decode, plan_reads, register_count
from factorytwin.connectors.models import ModbusConnector, ModbusRegister

_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    6: "device busy",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}


class ModbusConnectorRuntime(Connector[ModbusConnector]):
    """Polls one Modbus TCP unit; see the module docstring for what happens to values that go wrong."""

    def __init__(self, config: ModbusConnector, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        refs = [RegisterRef(i, r.table, r.address, register_count(r.data_type)) for i, r in enumerate(config.registers)]
        self.plan: list[ReadBlock] = plan_reads(refs)
        self.polls = 0

    def source(self, register: ModbusRegister) -> str:
        """Where a value comes from, for the log: host, unit, table and address."""
        c = self.config
        return f"modbus://{c.host}:{c.port}/{c.unit_id}/{register.table}/{register.address}"

    async def session(self) -> None:
        """Connect, then poll every ``poll_interval_s`` until a read gets no answer or the socket closes."""
        c = self.config
        client = AsyncModbusTcpClient(c.host, port=c.port, timeout=c.timeout_s, retries=0, reconnect_delay=0)
        try:
            if not await client.connect():
                raise ConnectionLost(f"cannot connect to {c.host}:{c.port}")
            self.connected()
            loop = asyncio.get_running_loop()
            while True:
                started = loop.time()
                await self.poll(client)
                await self.sleep(max(0.0, c.poll_interval_s - (loop.time() - started)))
        finally:
            client.close()

    async def poll(self, client: AsyncModbusTcpClient) -> None:
        """Read every block once and queue the values that decode."""
        ts = self.clock()
        values: list[MappedValue] = []
        for block in self.plan:
            registers = await self._read(client, block)
            if registers is None:
                continue
            for ref in block.members:
                reg = self.config.registers[ref.key]
                source = self.source(reg)
                try:
                    raw = decode(block.registers_of(ref, registers), reg.data_type, reg.word_order)
                except DecodeError as exc:
                    self.unmapped(source, str(exc))
                    continue
                values.append(MappedValue(reg.machine_id, reg.sensor, reg.convert(raw), ts, source))
        self.polls += 1
        self.emit(values)

    async def _read(self, client: AsyncModbusTcpClient, block: ReadBlock) -> list[int] | None:
        c = self.config
        read = client.read_holding_registers if block.table == "holding" else client.read_input_registers
        try:
            response = await read(block.start, count=block.count, device_id=c.unit_id)
        except ModbusException as exc:  # no answer in time, or the socket closed: the link is gone
            raise ConnectionLost(describe(exc)) from exc
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            why = f"the device answered exception {code} ({_EXCEPTION_NAMES.get(code, 'unknown')})"
            where = f"{block.table} registers {block.start}..{block.start + block.count - 1}"
            self.note_error(f"{where}: {why}")
            for ref in block.members:
                self.unmapped(self.source(self.config.registers[ref.key]), why)
            return None
        registers = list(response.registers)
        if len(registers) < block.count:
            raise ConnectionLost(f"asked for {block.count} registers from {block.start}, got {len(registers)}")
        return registers


__all__ = ["ModbusConnectorRuntime"]
