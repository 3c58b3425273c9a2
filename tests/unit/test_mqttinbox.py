"""The bulk reader of MQTT ingest's connection: packets split out of socket reads of any size, PUBLISHes into the
inbox, everything else to paho, and a group's PUBACKs in one write. Also pins the paho internals it replaces."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import aiomqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import MQTTErrorCode

from factorytwin.mqtt import MqttConnection, paho_client
from factorytwin.mqttinbox import Inbound, Inbox, decode_publish, puback_bytes


def _vbi(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish(topic: str, payload: bytes, qos: int = 1, mid: int = 1, props: bytes = b"", v5: bool = True) -> bytes:
    body = struct.pack("!H", len(topic)) + topic.encode()
    if qos:
        body += struct.pack("!H", mid)
    if v5:
        body += _vbi(len(props)) + props
    body += payload
    return bytes([0x30 | (qos << 1)]) + _vbi(len(body)) + body


class FakeSocket:
    """Gives the chunks it was made with, then "would block"."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def recv(self, bufsize: int) -> bytes:
        if not self.chunks:
            raise BlockingIOError
        chunk = self.chunks.pop(0)
        assert len(chunk) <= bufsize
        return chunk

    def close(self) -> None:
        self.chunks = []

    def fileno(self) -> int:
        return -1  # closed, as far as aiomqtt's socket callbacks are concerned


def client(v5: bool = True) -> aiomqtt.Client:
    protocol = aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311
    return aiomqtt.Client("127.0.0.1", 1883, identifier="unit", protocol=protocol)


def inbox_reading(chunks: list[bytes], v5: bool = True) -> tuple[Inbox, Any]:
    c = client(v5)
    connection = MqttConnection(c, manual_ack=True, bulk=True)
    assert connection.inbox is not None
    inner: Any = connection.inbox.paho
    inner._sock = FakeSocket(chunks)
    return connection.inbox, inner


def read_all(inner: Any) -> None:
    while inner._sock.chunks:
        assert inner._packet_read() in (MQTTErrorCode.MQTT_ERR_AGAIN, MQTTErrorCode.MQTT_ERR_SUCCESS)


def test_a_publish_is_decoded_with_its_properties_skipped() -> None:
    props = b"\x26" + struct.pack("!H", 1) + b"k" + struct.pack("!H", 1) + b"v"  # a user property k=v
    packet = publish("ft/mill-01/telemetry", b'{"a": 1}', qos=1, mid=513, props=props)
    assert decode_publish(packet[0], packet[2:], v5=True) == Inbound("ft/mill-01/telemetry", b'{"a": 1}', 1, 513)
    plain = publish("t", b"x", qos=0, v5=False)
    assert decode_publish(plain[0], plain[2:], v5=False) == Inbound("t", b"x", 0, 0)
    with pytest.raises(ValueError, match="topic"):
        decode_publish(0x32, b"\x00\x09ab", v5=True)


def test_pubacks_of_a_group_are_back_to_back_two_byte_packets() -> None:
    assert puback_bytes([1, 258]) == b"\x40\x02\x00\x01\x40\x02\x01\x02"


async def test_packets_split_anywhere_across_reads_all_arrive_in_order() -> None:
    packets = [publish(f"ft/m{i}/telemetry", b"p" * (i * 70), mid=i + 1) for i in range(30)]  # some over 127 bytes
    stream = b"".join(packets)
    chunks = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    inbox, inner = inbox_reading(chunks)
    read_all(inner)
    got = await inbox.take(100)
    assert [m.mid for m in got] == list(range(1, 31))
    assert got[29] == Inbound("ft/m29/telemetry", b"p" * 2030, 1, 30)
    assert len(inbox) == 0


async def test_take_returns_at_most_its_limit_and_keeps_the_rest() -> None:
    inbox, inner = inbox_reading([b"".join(publish("t/a/telemetry", b"{}", mid=i) for i in range(1, 6))])
    read_all(inner)
    assert [m.mid for m in await inbox.take(3)] == [1, 2, 3]
    assert len(inbox) == 2
    assert [m.mid for m in await inbox.take(3)] == [4, 5]


async def test_v311_publishes_have_no_properties_block() -> None:
    inbox, inner = inbox_reading([publish("t/a/telemetry", b"{}", mid=7, v5=False)], v5=False)
    read_all(inner)
    assert await inbox.take(10) == [Inbound("t/a/telemetry", b"{}", 1, 7)]


async def test_other_packets_go_to_paho_as_its_own_reader_would_hand_them() -> None:
    inbox, inner = inbox_reading([b"\xd0\x00" + publish("t/a/telemetry", b"{}", mid=9)])  # PINGRESP, PUBLISH
    inner._ping_t = 123.0  # a ping is outstanding
    read_all(inner)
    assert inner._ping_t == 0  # paho's _handle_pingresp ran
    assert inner._in_packet["command"] == 0  # and its read state is reset, as after its own reader
    assert [m.mid for m in await inbox.take(10)] == [9]


async def test_a_lost_connection_is_told() -> None:
    _, inner = inbox_reading([b""])
    assert inner._packet_read() == MQTTErrorCode.MQTT_ERR_CONN_LOST


async def test_take_waits_for_a_message_and_raises_when_disconnected() -> None:
    inbox, inner = inbox_reading([])
    waiting = asyncio.ensure_future(inbox.take(10))
    await asyncio.sleep(0)
    assert not waiting.done()
    inner._sock.chunks.append(publish("t/a/telemetry", b"{}", mid=4))
    inner._packet_read()
    assert [m.mid for m in await waiting] == [4]
    lost = asyncio.ensure_future(inbox.take(10))
    await asyncio.sleep(0)
    inbox.client._disconnected.set_exception(aiomqtt.MqttError("gone"))
    with pytest.raises(aiomqtt.MqttError, match="Disconnected"):
        await lost


async def test_a_group_is_acknowledged_in_one_queued_write(monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, inner = inbox_reading([])
    queued: list[tuple[int, bytes]] = []
    monkeypatch.setattr(inner, "_packet_queue", lambda cmd, packet, mid, qos: queued.append((cmd, packet)))
    inbox.ack([Inbound("t", b"", 1, 1), Inbound("t", b"", 0, 0), Inbound("t", b"", 1, 2)])
    assert queued == [(0x40, puback_bytes([1, 2]))]  # QoS 0 needs none


async def test_messages_aiomqtt_queued_before_the_inbox_come_first() -> None:
    c = client()
    c._queue.put_nowait(aiomqtt.Message("t/early/telemetry", b"{}", 1, False, 3, None))
    connection = MqttConnection(c, manual_ack=True, bulk=True)
    assert connection.queued() == 1
    assert await connection.take(10) == [Inbound("t/early/telemetry", b"{}", 1, 3)]


async def test_the_paho_internals_the_inbox_replaces_are_where_it_expects_them() -> None:
    inner = paho_client(client())
    for name in ("_packet_read", "_packet_handle", "_packet_queue", "_sock_recv", "_easy_log", "_msgtime_mutex"):
        assert hasattr(inner, name), name
    assert set(inner._in_packet) == {
        "command",
        "have_remaining",
        "remaining_count",
        "remaining_mult",
        "remaining_length",
        "packet",
        "to_process",
        "pos",
    }
    assert isinstance(client()._disconnected, asyncio.Future)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=12),
    cuts=st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=40),
    props=st.booleans(),
)
def test_any_split_of_any_publishes_gives_them_all_back_in_order(
    sizes: list[int], cuts: list[int], props: bool
) -> None:
    user = b"\x26" + struct.pack("!H", 1) + b"k" + struct.pack("!H", 1) + b"v" if props else b""
    packets = [publish(f"ft/m{i}/telemetry", bytes([i % 256]) * n, mid=i + 1, props=user) for i, n in enumerate(sizes)]
    stream = b"".join(packets)
    chunks, pos, i = [], 0, 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        chunks.append(stream[pos : pos + step])
        pos, i = pos + step, i + 1

    async def run() -> list[Inbound]:
        inbox, inner = inbox_reading(chunks)
        read_all(inner)
        return await inbox.take(1000)

    got = asyncio.run(run())
    assert got == [Inbound(f"ft/m{i}/telemetry", bytes([i % 256]) * n, 1, i + 1) for i, n in enumerate(sizes)]
