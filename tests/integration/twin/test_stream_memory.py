"""WebSocket memory is bounded by bytes: a client that never reads while 150 events of 10 MB go out is dropped
(close 1013) and resident memory stays flat; a 6 MB subscription (500,000 ids) is refused by the size limit.
The real server (uvicorn, in process) on loopback; every loop is bounded."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from factorytwin.api.serve import BackgroundServer
from factorytwin.config import Settings
from factorytwin.domain import Event, EventKind
from factorytwin.twin.service import TwinService
from tests.credentials import bearer

pytestmark = pytest.mark.integration

EVENT_BYTES = 10 * 1024 * 1024


def rss_mb() -> float:
    """Resident memory of this process (the in-process server runs here), MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[BackgroundServer]:
    async with BackgroundServer(settings) as s:
        yield s


async def stalled_websocket(port: int, authorization: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake over a socket with a small receive buffer; afterwards nothing is ever read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 16)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: {authorization}\r\n\r\n"
        ).encode()
    )
    status = await asyncio.wait_for(reader.readline(), 10)
    assert b"101" in status
    return reader, writer


async def _flood_a_stalled_client(server: BackgroundServer, twin: TwinService) -> float:
    """One never-reading client, 150 events of 10 MB for a machine it follows; returns the peak RSS seen."""
    dropped = twin.hub.dropped_clients
    _, writer = await stalled_websocket(server.port, (await bearer(server.app))["Authorization"])
    peak = rss_mb()
    try:
        for i in range(150):
            text = f"{i % 10}" * EVENT_BYTES
            # built without validation: ingest caps event text, the hub must hold its bound whatever it is handed
            event = Event.model_construct(machine_id="mill-01", ts=datetime.now(UTC), kind=EventKind.NOTE, message=text)
            twin.hub.event(event)
            del event
            del text
            await asyncio.sleep(0.01)  # let the sender try to write
            peak = max(peak, rss_mb())
        assert twin.hub.dropped_clients == dropped + 1
    finally:
        writer.close()
    await asyncio.sleep(0.5)
    return peak


async def test_a_client_that_never_reads_is_dropped_by_bytes_and_memory_stays_bounded(
    server: BackgroundServer,
) -> None:
    twin: TwinService = server.app.state.services.twin
    headers = await bearer(server.app)
    async with ws_connect(
        server.url.replace("http", "ws") + "/api/v1/stream?machines=pump-01", additional_headers=headers
    ) as healthy:
        await healthy.recv()  # its snapshot; it follows another machine, so it gets none of the big events
        before = rss_mb()
        peak_1 = await _flood_a_stalled_client(server, twin)
        after_1 = rss_mb()
        peak_2 = await _flood_a_stalled_client(server, twin)  # the same again: memory is reused, not added
        after_2 = rss_mb()
        assert len(twin.hub.clients) == 1  # the healthy one
        await healthy.ping()  # and it is still served
    print(
        f"never-reading client + 150 x 10 MB events, twice: RSS {before:.0f} MB -> peak {peak_1:.0f}, "
        f"after {after_1:.0f}; second round peak {peak_2:.0f}, after {after_2:.0f} MB"
    )
    # One event in flight in the socket and at most 16 MB queued; without the byte bound 150 of them were 1.5 GB.
    # What stays after a round is the allocator's cache of freed 10 MB blocks: a second round reuses it.
    assert peak_1 - before < 300, (before, peak_1)
    assert peak_2 - after_1 < 60, (after_1, peak_2)
    assert after_2 - after_1 < 60, (after_1, after_2)


async def _receive_until_closed(ws: ClientConnection) -> None:
    for _ in range(10):  # bounded: the server closes at once
        await asyncio.wait_for(ws.recv(), 10)


async def test_a_huge_subscription_is_refused_by_the_message_size_limit(server: BackgroundServer) -> None:
    ids = [f"nope-{i:06d}" for i in range(500_000)]  # about 6.5 MB of JSON
    before = rss_mb()
    headers = await bearer(server.app)
    async with ws_connect(
        server.url.replace("http", "ws") + "/api/v1/stream", max_size=None, additional_headers=headers
    ) as ws:
        await ws.recv()  # snapshot
        await ws.send(json.dumps({"type": "subscribe", "machines": ids}))
        with pytest.raises(ConnectionClosed) as closed:
            await _receive_until_closed(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big
    assert rss_mb() - before < 100


async def test_a_subscription_over_the_hub_cap_gets_an_error_and_keeps_the_old_one(settings: Settings) -> None:
    # The router keeps known machines only; the hub's own cap (here 2) is what a layout larger than it meets.
    capped = settings.model_copy(update={"stream_max_subscriptions": 2})
    async with (
        BackgroundServer(capped) as server,
        ws_connect(
            server.url.replace("http", "ws") + "/api/v1/stream?machines=mill-01",
            additional_headers=await bearer(server.app),
        ) as ws,
    ):
        json.loads(await ws.recv())  # snapshot
        await ws.send(json.dumps({"type": "subscribe", "machines": ["mill-01", "mill-02", "pump-01"]}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert reply["type"] == "error"
        assert "at most 2 machines" in reply["detail"]
        await ws.ping()  # still open
