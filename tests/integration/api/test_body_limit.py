"""An endless chunked request body to the real server (uvicorn, httptools) is cut at ``FT_MAX_REQUEST_BYTES`` with
413: the server stops reading long before the client stops sending (loopback, bounded loop). The 413 itself is
checked whenever it arrives before the connection's reset (a declared oversized body, and a chunked one in process,
always get it: tests/unit/api/test_body_limit.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from factorytwin.api.serve import BackgroundServer
from factorytwin.config import Settings
from tests.credentials import bearer

pytestmark = pytest.mark.integration
CAP = 1024 * 1024
SENT_AT_MOST = 256 * 1024 * 1024


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[BackgroundServer]:
    async with BackgroundServer(settings.model_copy(update={"max_request_bytes": CAP})) as s:
        yield s


async def test_an_endless_chunked_body_is_cut_with_413(server: BackgroundServer) -> None:
    auth = (await bearer(server.app))["Authorization"]
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = (
        "POST /api/v1/machines/mill-01/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"  # 64 KiB of JSON whitespace per chunk, for ever
    first = b'{"command": "stop", "pad": "'
    answer = asyncio.create_task(reader.read(4096))  # read while writing: the answer comes before the body ends
    sent = 0
    writer.write(head + f"{len(first):x}\r\n".encode() + first + b"\r\n")
    try:
        while sent < SENT_AT_MOST and not answer.done():
            writer.write(chunk)
            await writer.drain()
            sent += 0x10000
    except ConnectionError:
        pass
    try:
        got = await asyncio.wait_for(answer, timeout=10)
    except ConnectionResetError:
        # The server answered and closed with our bytes still unread in its socket: its kernel then resets the
        # connection, and the reset may overtake the 413 on its way here (RFC 9112 9.6, "tear-down"). Cut it was.
        got = b""
    writer.close()
    assert sent < SENT_AT_MOST  # the server closed the connection: it did not read on to the end
    if got:
        assert got.startswith(b"HTTP/1.1 413"), got[:200]
        assert b"request body is larger than 1048576 bytes" in got
