"""A WebSocket client that stops reading is dropped; the others keep getting their updates."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from factorytwin.config import Settings
from factorytwin.twin.service import TwinService
from tests.credentials import admin_headers
from tests.integration.twin.conftest import serve_app, wait_until
from tests.integration.twin.test_mqtt_live import MILL

pytestmark = pytest.mark.integration


def stalled_websocket(port: int, authorization: str) -> socket.socket:
    """A WebSocket handshake over a socket with a tiny receive buffer, after which nothing is ever read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: {authorization}\r\n\r\n"
        ).encode()
    )
    assert b"101" in sock.recv(1024).split(b"\r\n")[0]
    return sock


def subscribe_frames(count: int) -> bytes:
    """``count`` masked WebSocket text frames asking for every machine (each answered with a full snapshot)."""
    payload = b'{"type": "subscribe", "machines": null}'
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return (bytes([0x81, 0x80 | len(payload)]) + mask + masked) * count


async def test_a_client_that_stops_reading_is_dropped_and_the_others_are_not_stalled(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/twin.db", stream_interval_s=0.05)
    async with (
        serve_app(settings) as (base, app),
        httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http,
    ):
        twin: TwinService = app.state.services.twin
        twin.hub.queue_size = 50  # small, so that the test is quick
        # In a thread: a blocking handshake would freeze the event loop the server runs in.
        port = int(base.rsplit(":", 1)[1])
        stalled = await asyncio.to_thread(stalled_websocket, port, admin_headers(base)["Authorization"])
        try:
            async with ws_connect(
                base.replace("http", "ws") + "/api/v1/stream?machines=mill-01", additional_headers=admin_headers(base)
            ) as healthy:
                await healthy.recv()  # snapshot
                # Each request makes the server queue a snapshot of every machine (~5 kB) that the client never
                # reads. Sent 20 at a time, fewer than the queue holds: only a full socket makes the queue overflow.
                for _ in range(300):
                    await asyncio.to_thread(stalled.sendall, subscribe_frames(20))
                    await asyncio.sleep(0.01)
                    if twin.hub.dropped_clients:
                        break
                assert twin.hub.dropped_clients == 1
                body = {
                    "machine_id": "mill-01",
                    "ts": datetime.now(UTC).isoformat(),
                    "values": {**MILL, "torque": 64.5},
                }
                (await http.post("/api/v1/telemetry", json=body)).raise_for_status()

                async def fresh_value() -> bool:
                    while True:
                        msg = json.loads(await asyncio.wait_for(healthy.recv(), 10))
                        if msg["type"] == "reading" and msg["values"].get("torque") == 64.5:
                            return True

                assert await wait_until(fresh_value)  # the healthy client was not held back
                assert len(twin.hub.clients) == 1
        finally:
            stalled.close()
