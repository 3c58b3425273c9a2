"""Request heads are bounded: a 16 MB header and endless headers get 431 / a closed connection, memory stays flat and
``/health`` stays fast (the real uvicorn server with the httptools protocol, loopback only, bounded loops)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from factorytwin.api.serve import BackgroundServer
from factorytwin.config import Settings
from tests.credentials import bearer

pytestmark = pytest.mark.integration


def rss_mb() -> float:
    """Resident memory of this process (the in-process server runs here), MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[BackgroundServer]:
    async with BackgroundServer(settings) as s:
        yield s


async def _raw(port: int, head: bytes, tail: bytes = b"\r\n\r\n") -> bytes:
    """Send ``head`` + ``tail`` in 64 kB writes (stopping once the server closes) and return what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        data = head + tail
        for i in range(0, len(data), 65536):
            if reader.at_eof():
                break
            writer.write(data[i : i + 65536])
            try:
                await writer.drain()
            except ConnectionError:
                break
        return await asyncio.wait_for(reader.read(4096), timeout=10)
    except ConnectionError:
        return b""
    finally:
        writer.close()


async def _endless_header(port: int, limit_bytes: int) -> int:
    """One header line that never ends, sent until the server closes (at most ``limit_bytes``): bytes it took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    chunk = b"a" * 65536
    try:
        writer.write(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        while sent < limit_bytes and not reader.at_eof():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    except ConnectionError:
        pass
    finally:
        writer.close()
    return sent


async def test_a_16_mb_header_is_refused_with_431(server: BackgroundServer) -> None:
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (16 * 1024 * 1024)
    answer = await _raw(server.port, head)
    # Either the 431 arrives, or the server closed before the client finished writing (connection reset).
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer[:200]


async def test_too_many_header_lines_are_refused_with_431(server: BackgroundServer) -> None:
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(500))
    answer = await _raw(server.port, head, b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


async def test_an_ordinary_request_with_big_but_allowed_headers_still_works(server: BackgroundServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=await bearer(server.app)) as client:
        r = await client.get("/api/v1/health", headers={"X-Fine": "a" * 30_000})
        assert r.status_code == 200
        big = await client.post("/api/v1/telemetry", content=b"{" + b" " * 200_000 + b"}")
        assert big.status_code == 422  # a large body is not a large head


async def test_endless_headers_are_cut_off_with_flat_memory_and_fast_health(server: BackgroundServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        await client.get("/api/v1/health")
        before = rss_mb()
        attackers = [asyncio.create_task(_endless_header(server.port, 100 * 1024 * 1024)) for _ in range(10)]
        worst = 0.0
        for _ in range(20):  # bounded: 20 probes while the attackers write
            start = time.perf_counter()
            assert (await client.get("/api/v1/health")).status_code == 200
            worst = max(worst, time.perf_counter() - start)
            if all(a.done() for a in attackers):
                break
            await asyncio.sleep(0.05)
        taken = await asyncio.gather(*attackers)
        after = rss_mb()
    # Each connection was closed after about the 64 kB bound (plus what was in flight in the socket buffers).
    assert max(taken) < 16 * 1024 * 1024, taken
    assert after - before < 100, (before, after)
    assert worst < 1.0, worst
    print(
        f"endless headers: sent {[t // 1024 for t in taken]} kB; RSS {before:.0f} -> {after:.0f} MB; "
        f"worst /health {worst * 1000:.0f} ms"
    )
