"""The HTTP publisher against a real local HTTP server that is down at first, then comes up and says 503."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from factorytwin.domain import TelemetryBatch
from factorytwin.sim.publish import HttpPublisher
from tests.waiting import until


class _Ingest:
    """A tiny telemetry endpoint: records every accepted batch, answers 503 to the first ``busy`` requests."""

    def __init__(self, port: int, busy: int) -> None:
        self.batches: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.busy = busy
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.path != "/api/v1/telemetry":
                    code = 404
                elif ingest.busy > 0:
                    ingest.busy -= 1
                    code = 503
                else:
                    TelemetryBatch.model_validate_json(body)  # the agreed wire format
                    ingest.batches.append(json.loads(body))
                    code = 200
                ingest.statuses.append(code)
                self.send_response(code)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Ingest:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self) -> list[tuple[str, str]]:
        return [(r["machine_id"], r["ts"]) for b in self.batches for r in b["readings"]]


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return port


def _readings(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "machine_id": f"m{i % 4}",
            "ts": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "values": {"air_temp": 300.0},
        }
        for i in range(start, start + count)
    ]


async def test_no_reading_is_lost_while_the_server_is_down_then_busy(free_port: int) -> None:
    publisher = HttpPublisher(
        f"http://127.0.0.1:{free_port}", batch_items=50, backoff_initial_s=0.05, backoff_max_s=0.2
    )
    task = asyncio.create_task(publisher.run())
    sent = _readings(0, 120)
    publisher.submit(sent[:60], [])
    # nobody listens: connection refused, retried with back-off
    await until(lambda: publisher.stats.retries >= 2, "two retries against a closed port")
    assert publisher.stats.retries >= 2
    assert publisher.stats.sent_readings == 0
    with _Ingest(free_port, busy=2) as ingest:
        publisher.submit(sent[60:], [])
        assert await publisher.drain(10.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sorted(ingest.received()) == sorted((r["machine_id"], r["ts"]) for r in sent)
    assert ingest.statuses.count(503) == 2
    assert publisher.stats.sent_readings == 120
    assert publisher.stats.overflowed == 0


async def test_events_travel_in_the_batch(free_port: int) -> None:
    event = {
        "machine_id": "m1",
        "ts": "2025-01-01T00:00:00Z",
        "kind": "fault",
        "status": "failed",
        "data": {"mode": "power"},
    }
    publisher = HttpPublisher(f"http://127.0.0.1:{free_port}/")
    with _Ingest(free_port, busy=0) as ingest:
        task = asyncio.create_task(publisher.run())
        publisher.submit(_readings(0, 3), [event])
        assert await publisher.drain(5.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert ingest.batches[0]["events"][0]["data"] == {"mode": "power"}


def test_buffer_overflow_is_loud_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    publisher = HttpPublisher("http://127.0.0.1:9", max_buffer=100)
    with caplog.at_level(logging.WARNING, logger="factorytwin.sim.publish"):
        publisher.submit(_readings(0, 150), [])
    assert publisher.stats.overflowed == 50
    assert len(publisher.buffer.items) == 100
    assert "buffer full" in caplog.text
    assert "dropped" in caplog.text


def test_target_must_be_an_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpPublisher("localhost:8000")
