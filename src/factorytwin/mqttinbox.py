"""A bulk reader for a subscriber's connection: many PUBLISH packets per socket read, many PUBACKs per write.

paho reads a packet with at least three ``recv`` calls (command byte, length bytes, body), decodes every MQTT v5
PUBLISH into a fresh ``Properties`` (which rebuilds three lookup tables each time: a fifth of MQTT ingest's time),
formats a debug log line, matches the topic against its callbacks, and aiomqtt then wraps the message again and
wakes a task per message. For a subscriber taking hundreds of small messages a second that is most of the cost.

``Inbox`` replaces the paho client's ``_packet_read`` on one connection (the only reach into paho's internals
besides ``factorytwin.mqtt.MqttConnection``'s, pinned by ``tests/unit/test_mqttinbox.py``):

* one ``recv`` of up to ``READ_CHUNK`` bytes, split into complete packets; a partial packet waits in the buffer;
* a PUBLISH of QoS 0 or 1 becomes an ``Inbound`` (topic, payload, QoS, packet id) in the inbox; its properties
  are skipped, not decoded (the subscriber uses none; topic aliases are never granted, so none can arrive);
* every other packet (CONNACK, SUBACK, PUBACK of our own publishes, PINGRESP, DISCONNECT, a QoS 2 PUBLISH) is
  handed to paho's own ``_packet_handle`` exactly as paho would have, so keep-alive, subscribe and publish work
  unchanged;
* ``take`` returns every message waiting (up to a cap) in one call, first any that aiomqtt queued before the inbox
  was installed; ``ack`` queues the PUBACKs of a whole group as one write (MQTT v5 allows the 2-byte PUBACK that
  means "success").
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Any, NamedTuple

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.client import MQTT_LOG_DEBUG, MQTT_LOG_ERR
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.exception import MalformedPacket

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024  # bytes per recv: hundreds of telemetry messages
MAX_BUFFERED = 64 * 1024 * 1024  # a packet can be at most this long before the connection is dropped (paho: 256 MB)
_PUBLISH = 0x30
_PUBACK = 0x40


class Inbound(NamedTuple):
    """One received PUBLISH: its topic, raw payload, QoS, and packet id (0 for QoS 0)."""

    topic: str
    payload: bytes
    qos: int
    mid: int


def _vbi(buf: bytearray | bytes, pos: int, end: int) -> tuple[int, int]:
    """A variable byte integer at ``pos``: (value, position after it); (-1, pos) if incomplete, -2 if too long."""
    value, mult, i = 0, 1, pos
    while True:
        if i >= end:
            return -1, pos
        byte = buf[i]
        value += (byte & 0x7F) * mult
        i += 1
        if byte < 0x80:
            return value, i
        if i - pos >= 4:
            return -2, pos
        mult *= 128


def decode_publish(cmd: int, body: bytes | bytearray, v5: bool) -> Inbound:
    """A PUBLISH packet's fixed-header byte and body as an ``Inbound``; ValueError if it is malformed."""
    qos = (cmd >> 1) & 0x03
    if len(body) < 2:
        raise ValueError("PUBLISH too short")
    slen = (body[0] << 8) | body[1]
    j = 2 + slen
    if j > len(body):
        raise ValueError("PUBLISH topic longer than the packet")
    topic = bytes(body[2:j]).decode("utf-8", "replace")
    mid = 0
    if qos:
        if j + 2 > len(body):
            raise ValueError("PUBLISH without its packet id")
        mid = (body[j] << 8) | body[j + 1]
        j += 2
    if v5:
        plen, after = _vbi(body, j, len(body))
        if plen < 0 or after + plen > len(body):
            raise ValueError("PUBLISH properties longer than the packet")
        j = after + plen
    return Inbound(topic, bytes(body[j:]), qos, mid)


def puback_bytes(mids: list[int]) -> bytes:
    """The PUBACK packets of ``mids``, back to back (reason "success", no properties: valid in v3.1.1 and v5)."""
    out = bytearray()
    for mid in mids:
        out += bytes((_PUBACK, 2, mid >> 8, mid & 0xFF))
    return bytes(out)


class Inbox:
    """The bulk reader installed on one aiomqtt client (see the module docstring)."""

    def __init__(self, client: aiomqtt.Client, inner: paho.Client) -> None:
        """Install on ``client``, whose paho client is ``inner`` (``factorytwin.mqtt.paho_client``)."""
        self.client = client
        self.paho: Any = inner
        self.v5 = int(self.paho._protocol) == 5
        self._buf = bytearray()
        self._messages: collections.deque[Inbound] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        inner._packet_read = self._packet_read  # type: ignore[method-assign]  # an instance attribute: this client only

    def __len__(self) -> int:
        """Messages received and not yet taken."""
        return len(self._messages) + len(self.client.messages)

    def _packet_read(self) -> MQTTErrorCode:
        """paho's ``_packet_read`` contract: read what the socket has, handle it, say if the connection is lost."""
        p = self.paho
        try:
            data = p._sock_recv(READ_CHUNK)
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:
            p._easy_log(MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        with p._msgtime_mutex:
            p._last_bytes_received = time.monotonic()
        buf = self._buf
        buf += data
        rc = self._split()
        waiting = self._messages or not self.client._queue.empty()  # (a QoS 2 message goes through paho)
        if waiting and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return rc
        if len(buf) > MAX_BUFFERED:
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        return MQTTErrorCode.MQTT_ERR_AGAIN  # loop_read: done for now (aiomqtt reads on while TLS has more)

    def _split(self) -> MQTTErrorCode:
        buf, pos, end = self._buf, 0, len(self._buf)
        append, v5 = self._messages.append, self.v5
        rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        while end - pos >= 2:
            cmd = buf[pos]
            length, start = _vbi(buf, pos + 1, end)
            if length == -2:
                rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
                break
            if length < 0 or start + length > end:
                break  # incomplete: wait for more
            stop = start + length
            if cmd & 0xF0 == _PUBLISH and cmd & 0x06 != 0x04:
                try:
                    append(decode_publish(cmd, buf[start:stop], v5))
                except ValueError as exc:
                    self.paho._easy_log(MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
                    rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
                    break
            else:
                rc = self._paho_handles(cmd, buf[start:stop], length, buf[pos + 1 : start])
            pos = stop
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
        del buf[:pos]
        return rc

    def _paho_handles(self, cmd: int, body: bytearray, length: int, length_bytes: bytearray) -> MQTTErrorCode:
        """Any packet but a QoS 0/1 PUBLISH: set paho's read state as its own reader leaves it, and let it handle."""
        p = self.paho
        p._in_packet = {
            "command": cmd,
            "have_remaining": 1,
            "remaining_count": list(length_bytes),
            "remaining_mult": 128 ** len(length_bytes),
            "remaining_length": length,
            "packet": body,
            "to_process": 0,
            "pos": 0,
        }
        try:
            rc: MQTTErrorCode = p._packet_handle()
        except MalformedPacket as exc:
            p._easy_log(MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        p._in_packet = {
            "command": 0,
            "have_remaining": 0,
            "remaining_count": [],
            "remaining_mult": 1,
            "remaining_length": 0,
            "packet": bytearray(b""),
            "to_process": 0,
            "pos": 0,
        }
        return rc

    def _drain_aiomqtt(self, out: list[Inbound], limit: int) -> None:
        """Messages paho delivered through aiomqtt before the inbox was installed (they came first)."""
        queue: asyncio.Queue[aiomqtt.Message] = self.client._queue
        while len(out) < limit and not queue.empty():
            m = queue.get_nowait()
            payload = m.payload if isinstance(m.payload, bytes) else str(m.payload or "").encode()
            out.append(Inbound(str(m.topic), payload, m.qos, m.mid))

    async def take(self, limit: int) -> list[Inbound]:
        """Wait for at least one message, then return all waiting, oldest first (at most ``limit``).

        Raises ``aiomqtt.MqttError`` when the connection is lost while waiting (like aiomqtt's iterator).
        """
        out: list[Inbound] = []
        while True:
            self._drain_aiomqtt(out, limit)
            messages = self._messages
            while messages and len(out) < limit:
                out.append(messages.popleft())
            if out:
                return out
            disconnected: asyncio.Future[None] = self.client._disconnected
            if disconnected.done():
                raise aiomqtt.MqttError("Disconnected during message iteration") from disconnected.exception()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait((self._waiter, disconnected), return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._waiter = None

    def ack(self, messages: list[Inbound]) -> None:
        """Send the PUBACK of every QoS 1 message of ``messages`` in one write, in order."""
        mids = [m.mid for m in messages if m.qos == 1]
        if mids:
            self.paho._packet_queue(_PUBACK, puback_bytes(mids), 0, 0)
        for m in messages:
            if m.qos == 2:  # never at our QoS 1 subscriptions; paho's own PUBCOMP if one came all the same
                self.paho.ack(m.mid, 2)


__all__ = ["READ_CHUNK", "Inbound", "Inbox", "decode_publish", "puback_bytes"]
