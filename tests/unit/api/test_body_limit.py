"""Every request body is capped (``FT_MAX_REQUEST_BYTES``; ``POST /telemetry`` has its own ``FT_MAX_BODY_BYTES``):
413 naming the body and the cap, declared or chunked, before the route runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx

from factorytwin.api import Services

COMMAND = "/api/v1/machines/mill-01/commands"


def padded(size: int) -> bytes:
    """A JSON command of ``size`` bytes (an unknown field carries the padding)."""
    head = b'{"command": "stop", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    """The body as a stream: httpx sends it chunked, without Content-Length."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_a_body_over_the_cap_is_413_naming_the_cap(client: httpx.AsyncClient, services: Services) -> None:
    services.settings.max_request_bytes = 4096
    answer = await client.post(COMMAND, content=padded(5000), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json() == {
        "detail": [{"loc": ["body"], "msg": "request body is larger than 4096 bytes", "input": None}]
    }
    assert answer.headers["x-content-type-options"] == "nosniff"  # an answer like any other
    under = await client.post(COMMAND, content=padded(4000), headers={"content-type": "application/json"})
    assert under.status_code == 422  # read whole and validated: the padding is refused by name, not by size
    assert under.json()["detail"][0]["loc"] == ["body", "pad"]


async def test_a_chunked_body_without_content_length_is_cut_at_the_cap(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.settings.max_request_bytes = 4096
    answer = await client.post(COMMAND, content=chunks(padded(50_000)), headers={"content-type": "application/json"})
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413
    assert "4096 bytes" in answer.json()["detail"][0]["msg"]
    small = await client.post(
        COMMAND, content=chunks(json.dumps({"command": "stop"}).encode()), headers={"content-type": "application/json"}
    )
    assert small.status_code == 202


async def test_telemetry_has_its_own_larger_cap(client: httpx.AsyncClient, services: Services) -> None:
    services.settings.max_request_bytes = 1024
    now = datetime.now(UTC).isoformat()
    values = {"air_temp": 300.0, "process_temp": 310.0, "spindle_speed": 1500.0, "torque": 40.0, "tool_wear": 5.0}
    batch = {"readings": [{"machine_id": "mill-01", "ts": now, "values": values}] * 20}
    body = json.dumps(batch).encode()
    assert len(body) > 1024
    answer = await client.post("/api/v1/telemetry", content=body, headers={"content-type": "application/json"})
    assert answer.status_code != 413, answer.text
    services.settings.max_body_bytes = 1024
    answer = await client.post("/api/v1/telemetry", content=chunks(body), headers={"content-type": "application/json"})
    assert answer.status_code == 413
