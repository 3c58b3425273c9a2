"""Modbus register decoding and encoding: pure functions, no I/O.

A Modbus register is 16 bits, sent most significant byte first (the protocol fixes the byte order). A 32-bit
value spans two registers, and *their* order is the device's choice: ``big`` word order puts the high word in the
lower address (Modicon's own convention, "ABCD"), ``little`` puts it second ("CDAB", common on PLCs).

``decode`` turns the registers of one value into a float and refuses what no sensor can mean (a float32 NaN or
infinity, which many devices send for "no measurement"); ``encode`` is its inverse, for writes and for tests.
``plan_reads`` groups the registers a connector polls into as few contiguous reads as the protocol allows.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

DataType = Literal["int16", "uint16", "int32", "uint32", "float32"]
WordOrder = Literal["big", "little"]
Table = Literal["holding", "input"]

MAX_READ_REGISTERS = 125  # Modbus: a read of holding/input registers returns at most 125 registers
REGISTER_MAX = 0xFFFF

_WIDTH: dict[DataType, int] = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}
_FORMAT: dict[DataType, str] = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f"}


class DecodeError(ValueError):
    """Registers that do not hold a usable value of the declared type (wrong count, NaN, infinity, ...)."""


def register_count(data_type: DataType) -> int:
    """How many 16-bit registers a value of ``data_type`` occupies."""
    return _WIDTH[data_type]


def decode(registers: Sequence[int], data_type: DataType, word_order: WordOrder = "big") -> float:
    """The value that ``registers`` (each 0..65535, lowest address first) hold as ``data_type``.

    Raises ``DecodeError`` for a wrong number of registers, a register outside 0..65535, or a float32 that is
    NaN or infinite.
    """
    width = _WIDTH[data_type]
    if len(registers) != width:
        raise DecodeError(f"{data_type} needs {width} register(s), got {len(registers)}")
    for reg in registers:
        if not 0 <= reg <= REGISTER_MAX:
            raise DecodeError(f"register value {reg} is outside 0..65535")
    words = list(registers) if word_order == "big" else list(reversed(registers))
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    value: float = struct.unpack(_FORMAT[data_type], raw)[0]
    if data_type == "float32" and not math.isfinite(value):
        raise DecodeError(f"float32 is {value} (registers {_hex(registers)}): the device reports no measurement")
    return float(value)


def encode(value: float, data_type: DataType, word_order: WordOrder = "big") -> list[int]:
    """The registers (lowest address first) that hold ``value`` as ``data_type``; the inverse of ``decode``.

    Integer types need an integral ``value`` within their range; float32 needs a finite one. Raises
    ``DecodeError`` otherwise.
    """
    if not math.isfinite(value):
        raise DecodeError(f"cannot encode {value}: only finite numbers")
    if data_type == "float32":
        try:
            raw = struct.pack(">f", value)
        except OverflowError as exc:
            raise DecodeError(f"{value} does not fit a float32") from exc
    else:
        if value != int(value):
            raise DecodeError(f"{data_type} holds whole numbers only, not {value}")
        try:
            raw = struct.pack(_FORMAT[data_type], int(value))
        except struct.error as exc:
            raise DecodeError(f"{value:g} is outside the range of {data_type}") from exc
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return words if word_order == "big" else list(reversed(words))


def scaled(raw: float, scale: float, offset: float) -> float:
    """A raw device value in engineering units: ``raw * scale + offset``."""
    return raw * scale + offset


@dataclass(frozen=True, slots=True)
class RegisterRef:
    """One value to read: where it is and how wide it is; ``key`` tells the caller which mapping it is."""

    key: int
    table: Table
    address: int
    count: int


@dataclass(slots=True)
class ReadBlock:
    """One Modbus read: ``count`` registers of ``table`` from ``start``, covering ``members``."""

    table: Table
    start: int
    count: int
    members: list[RegisterRef] = field(default_factory=list)

    def registers_of(self, ref: RegisterRef, registers: Sequence[int]) -> list[int]:
        """The registers of ``ref`` within the answer ``registers`` to this read."""
        first = ref.address - self.start
        return list(registers[first : first + ref.count])


def plan_reads(refs: Iterable[RegisterRef], max_count: int = MAX_READ_REGISTERS) -> list[ReadBlock]:
    """Group ``refs`` into reads of contiguous (or overlapping) registers, each at most ``max_count`` long.

    Registers are never read across a gap: an address nobody mapped may not exist on the device, and reading it
    would fail the whole block.
    """
    blocks: list[ReadBlock] = []
    for ref in sorted(refs, key=lambda r: (r.table, r.address, r.count)):
        last = blocks[-1] if blocks else None
        end = ref.address + ref.count
        if last is not None and last.table == ref.table and ref.address <= last.start + last.count:
            new_count = max(last.count, end - last.start)
            if new_count <= max_count:
                last.count = new_count
                last.members.append(ref)
                continue
        blocks.append(ReadBlock(ref.table, ref.address, ref.count, [ref]))
    return blocks


def _hex(registers: Sequence[int]) -> str:
    return " ".join(f"0x{r:04X}" for r in registers)


__all__ = [
    "MAX_READ_REGISTERS",
    "DataType",
    "DecodeError",
    "ReadBlock",
    "RegisterRef",
    "Table",
    "WordOrder",
    "decode",
    "encode",
    "plan_reads",
    "register_count",
    "scaled",
]
