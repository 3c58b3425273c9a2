"""What a WebSocket client sends that the server cannot use gets one ``error`` message, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from factorytwin.api.app import create_app
from factorytwin.api.routers.stream import UNKNOWN_IDS_SHOWN, parse_client_message
from factorytwin.config import Settings
from factorytwin.twin.messages import MAX_SUBSCRIBED_MACHINES, SubscribeRequest
from tests.credentials import bearer_sync


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        c.headers.update(bearer_sync(c))
        yield c


def next_of_type(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (the snapshot and updates may come first)."""
    while True:
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message


def test_binary_and_invalid_frames_are_parsed_into_error_texts() -> None:
    assert "binary frames" in str(parse_client_message(b"\x00\x01"))
    assert str(parse_client_message("{not json")).startswith("(message): Invalid JSON")
    assert "subscribe" in str(parse_client_message('{"type": "dance"}'))
    too_many = json.dumps({"type": "subscribe", "machines": ["m"] * (MAX_SUBSCRIBED_MACHINES + 1)})
    assert str(parse_client_message(too_many)).startswith("subscribe.machines: List should have at most")
    assert parse_client_message('{"type": "subscribe", "machines": ["mill-01"]}') == SubscribeRequest(
        type="subscribe", machines=["mill-01"]
    )


def test_a_binary_frame_gets_an_error_and_the_connection_stays_open(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream") as ws:
        next_of_type(ws, "snapshot")
        ws.send_bytes(b"\x81\xff")
        assert "binary frames" in next_of_type(ws, "error")["detail"]
        ws.send_text("{oops")
        assert "Invalid JSON" in next_of_type(ws, "error")["detail"]
        ws.send_json({"type": "subscribe", "machines": ["mill-01"]})
        snapshot = next_of_type(ws, "snapshot")
        assert [m["machine_id"] for m in snapshot["machines"]] == ["mill-01"]


def test_unknown_ids_are_named_once_bounded_and_not_subscribed(client: TestClient) -> None:
    ghosts = [f"ghost-{i:05d}" for i in range(5000)]
    with client.websocket_connect("/api/v1/stream") as ws:
        next_of_type(ws, "snapshot")
        ws.send_json({"type": "subscribe", "machines": ["mill-01", *ghosts]})
        detail = next_of_type(ws, "error")["detail"]
        assert "'ghost-00000'" in detail
        assert f"and {5000 - UNKNOWN_IDS_SHOWN} more" in detail
        assert "ghost-04999" not in detail
        assert len(detail) < 500
        snapshot = next_of_type(ws, "snapshot")
        assert [m["machine_id"] for m in snapshot["machines"]] == ["mill-01"]


def test_too_many_ids_on_the_url_are_refused_with_an_error(client: TestClient) -> None:
    ids = ",".join(f"m{i}" for i in range(MAX_SUBSCRIBED_MACHINES + 1))
    with client.websocket_connect(f"/api/v1/stream?machines={ids}") as ws:
        assert next_of_type(ws, "snapshot")["machines"] == []
        assert f"at most {MAX_SUBSCRIBED_MACHINES}" in next_of_type(ws, "error")["detail"]


def test_a_bad_batch_value_on_the_url_gets_an_error_naming_it_and_single_messages(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream?batch=maybe") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        detail = next_of_type(ws, "error")["detail"]
        assert detail.startswith("batch: 'maybe' is not one of true, false")


@pytest.mark.parametrize("value", ["true", "1", "false", "0"])
def test_the_batch_parameter_takes_true_false_1_0(client: TestClient, value: str) -> None:
    with client.websocket_connect(f"/api/v1/stream?batch={value}&machines=mill-01") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_text("{oops")  # the first message after the snapshot is this answer, not an error about ?batch
        assert "Invalid JSON" in next_of_type(ws, "error")["detail"]
