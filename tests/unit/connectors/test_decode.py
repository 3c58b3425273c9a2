"""Modbus register decode/encode: word order, signedness, float32 NaN refused, read planning."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factorytwin.connectors.decode import (
    DataType,
    DecodeError,
    RegisterRef,
    WordOrder,
    decode,
    encode,
    plan_reads,
    register_count,
    scaled,
)


def test_int16_is_signed_twos_complement() -> None:
    assert decode([0xFFFE], "int16") == -2.0
    assert decode([0x8000], "int16") == -32768.0
    assert decode([0x7FFF], "int16") == 32767.0


def test_uint16_is_unsigned() -> None:
    assert decode([0xFFFE], "uint16") == 65534.0


def test_int32_big_word_order_puts_the_high_word_first() -> None:
    assert decode([0x0001, 0x0002], "int32", "big") == 0x00010002
    assert decode([0xFFFF, 0xFFFF], "int32", "big") == -1.0


def test_int32_little_word_order_puts_the_high_word_second() -> None:
    assert decode([0x0002, 0x0001], "int32", "little") == 0x00010002
    assert decode([0x0000, 0x8000], "int32", "little") == -(2**31)


def test_uint32_reaches_past_the_signed_range() -> None:
    assert decode([0xFFFF, 0xFFFF], "uint32") == 2**32 - 1


def test_float32_in_both_word_orders() -> None:
    assert decode([0x4120, 0x0000], "float32", "big") == 10.0
    assert decode([0x0000, 0x4120], "float32", "little") == 10.0
    assert decode([0xC2F6, 0xE979], "float32") == pytest.approx(-123.456, rel=1e-6)


@pytest.mark.parametrize(
    "registers",
    [[0x7FC0, 0x0000], [0xFFC0, 0x0000], [0x7F80, 0x0001], [0x7F80, 0x0000], [0xFF80, 0x0000]],
    ids=["nan", "negative-nan", "signalling-nan", "inf", "-inf"],
)
def test_float32_nan_and_infinity_are_refused(registers: list[int]) -> None:
    with pytest.raises(DecodeError, match="no measurement"):
        decode(registers, "float32")


def test_a_wrong_register_count_is_refused() -> None:
    with pytest.raises(DecodeError, match="float32 needs 2 register"):
        decode([0x4120], "float32")
    with pytest.raises(DecodeError, match="int16 needs 1"):
        decode([1, 2], "int16")


def test_a_register_beyond_16_bits_is_refused() -> None:
    with pytest.raises(DecodeError, match=r"outside 0\.\.65535"):
        decode([0x10000], "uint16")
    with pytest.raises(DecodeError, match=r"outside 0\.\.65535"):
        decode([-1], "int16")


def test_encode_is_word_ordered_like_decode() -> None:
    assert encode(10.0, "float32", "big") == [0x4120, 0x0000]
    assert encode(10.0, "float32", "little") == [0x0000, 0x4120]
    assert encode(-2, "int16") == [0xFFFE]
    assert encode(0x00010002, "int32", "little") == [0x0002, 0x0001]


def test_encode_refuses_what_the_type_cannot_hold() -> None:
    with pytest.raises(DecodeError, match="outside the range of int16"):
        encode(40000, "int16")
    with pytest.raises(DecodeError, match="outside the range of uint16"):
        encode(-1, "uint16")
    with pytest.raises(DecodeError, match="whole numbers"):
        encode(1.5, "int32")
    with pytest.raises(DecodeError, match="only finite"):
        encode(math.nan, "float32")
    with pytest.raises(DecodeError, match="does not fit a float32"):
        encode(1e300, "float32")


_RANGES: dict[DataType, tuple[int, int]] = {
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
}


@given(
    data_type=st.sampled_from(list(_RANGES)),
    order=st.sampled_from(["big", "little"]),
    data=st.data(),
)
def test_integers_round_trip(data_type: DataType, order: WordOrder, data: st.DataObject) -> None:
    low, high = _RANGES[data_type]
    value = data.draw(st.integers(low, high))
    registers = encode(value, data_type, order)
    assert len(registers) == register_count(data_type)
    assert decode(registers, data_type, order) == value


@given(
    value=st.floats(allow_nan=False, allow_infinity=False, width=32),
    order=st.sampled_from(["big", "little"]),
)
def test_finite_float32_round_trips(value: float, order: WordOrder) -> None:
    assert decode(encode(value, "float32", order), "float32", order) == value


@given(st.lists(st.integers(0, 0xFFFF), min_size=2, max_size=2))
def test_any_two_registers_decode_to_a_finite_float_or_are_refused(registers: list[int]) -> None:
    raw = struct.unpack(">f", bytes.fromhex("".join(f"{r:04x}" for r in registers)))[0]
    if math.isfinite(raw):
        assert decode(registers, "float32") == raw
    else:
        with pytest.raises(DecodeError):
            decode(registers, "float32")


def test_scaled_applies_scale_then_offset() -> None:
    assert scaled(250.0, 0.1, 273.15) == pytest.approx(298.15)


def test_contiguous_registers_of_one_table_are_read_together() -> None:
    refs = [
        RegisterRef(0, "holding", 0, 2),
        RegisterRef(1, "holding", 2, 1),
        RegisterRef(2, "holding", 3, 2),
        RegisterRef(3, "input", 3, 1),
    ]
    blocks = plan_reads(refs)
    assert [(b.table, b.start, b.count) for b in blocks] == [("holding", 0, 5), ("input", 3, 1)]
    holding = blocks[0]
    answer = [10, 11, 12, 13, 14]
    assert [holding.registers_of(r, answer) for r in holding.members] == [[10, 11], [12], [13, 14]]


def test_a_gap_starts_a_new_read() -> None:
    blocks = plan_reads([RegisterRef(0, "holding", 0, 1), RegisterRef(1, "holding", 5, 1)])
    assert [(b.start, b.count) for b in blocks] == [(0, 1), (5, 1)]


def test_overlapping_values_share_a_read() -> None:
    blocks = plan_reads([RegisterRef(0, "input", 10, 2), RegisterRef(1, "input", 11, 1)])
    assert [(b.start, b.count, len(b.members)) for b in blocks] == [(10, 2, 2)]


def test_a_read_never_exceeds_the_protocol_limit() -> None:
    refs = [RegisterRef(i, "holding", i, 1) for i in range(130)]
    blocks = plan_reads(refs, max_count=125)
    assert [(b.start, b.count) for b in blocks] == [(0, 125), (125, 5)]
