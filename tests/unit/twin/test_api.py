"""The twin's REST and WebSocket endpoints, in process with a temporary SQLite store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from factorytwin.api.app import create_app
from factorytwin.api.auth import auth_service, authenticated
from factorytwin.auth.models import Principal, PrincipalKind
from factorytwin.auth.roles import Role
from factorytwin.config import Settings
from factorytwin.twin.service import TwinService
from tests.credentials import bearer_sync
from tests.unit.twin.helpers import IMMEDIATE

NORMAL = {"air_temp": 300.0, "process_temp": 310.0, "spindle_speed": 1500.0, "torque": 40.0}


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/twin.db", stream_interval_s=0.05, **{**IMMEDIATE, **extra})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(tmp_path))) as c:
        c.headers.update(bearer_sync(c))
        yield c


def post_reading(client: TestClient, machine_id: str = "mill-01", ts: datetime | None = None, **values: float) -> None:
    when = ts if ts is not None else datetime.now(UTC)
    body = {"machine_id": machine_id, "ts": when.isoformat(), "values": {**NORMAL, **values}}
    response = client.post("/api/v1/telemetry", json=body)
    assert response.status_code < 300, response.text


def twin_of(client: TestClient) -> TwinService:
    """The twin service of the app the client drives."""
    assert isinstance(client.app, FastAPI)
    twin: TwinService = client.app.state.services.twin
    return twin


def settle(client: TestClient) -> None:
    """Wait, on the app's event loop, until the twin has saved every alarm change (no sleeping, no polling).

    Ingest answers after the twin saw the batch; only the alarm writes run in the background.
    """
    assert client.portal is not None, "the client must be entered (with TestClient(...) as client)"
    client.portal.call(twin_of(client).idle)


def active_alarms(client: TestClient, machine_id: str = "mill-01") -> list[dict[str, Any]]:
    response = client.get("/api/v1/alarms", params={"machine_id": machine_id, "state": ["active_unack", "active_ack"]})
    assert response.status_code == 200, response.text
    alarms: list[dict[str, Any]] = response.json()
    return alarms


def test_out_of_band_value_raises_one_alarm_which_is_acked_and_cleared(client: TestClient) -> None:
    post_reading(client, process_temp=318.0)
    post_reading(client, process_temp=318.5)
    settle(client)
    (alarm,) = active_alarms(client)
    assert (alarm["type"], alarm["severity"], alarm["state"]) == ("high:process_temp", "minor", "active_unack")
    alice, bob = bearer_sync(client, Role.OPERATOR), bearer_sync(client, Role.OPERATOR)  # steps in the caller's name
    acked = client.post(f"/api/v1/alarms/{alarm['id']}/ack", headers=alice).json()
    assert acked["state"] == "active_ack"
    cleared = client.post(f"/api/v1/alarms/{alarm['id']}/clear", headers=bob).json()
    assert cleared["state"] == "cleared_ack"
    assert acked["acked_by"] != cleared["cleared_by"]
    assert acked["acked_by"].startswith("test-operator-")
    assert cleared["cleared_by"].startswith("test-operator-")
    listed = client.get("/api/v1/alarms", params={"state": "cleared_ack"}).json()
    assert [a["id"] for a in listed] == [alarm["id"]]


def test_unknown_alarm_is_404(client: TestClient) -> None:
    assert client.post("/api/v1/alarms/999999/ack").status_code == 404


def test_machine_state_shows_in_machines_endpoint(client: TestClient) -> None:
    post_reading(client)
    state = client.get("/api/v1/machines/mill-01").json()["state"]
    assert state["status"] == "running"
    assert state["health"] == 100.0
    assert state["values"]["torque"] == 40.0


def test_command_to_unknown_machine_is_404_and_bad_arguments_422(client: TestClient) -> None:
    assert client.post("/api/v1/machines/ghost/commands", json={"command": "stop"}).status_code == 404
    bad = client.post("/api/v1/machines/mill-01/commands", json={"command": "set_speed"})
    assert bad.status_code == 422
    assert client.post("/api/v1/machines/mill-01/commands", json={"command": "fly"}).status_code == 422


def test_command_without_receiver_is_logged_with_its_outcome(client: TestClient) -> None:
    response = client.post("/api/v1/machines/mill-01/commands", json={"command": "set_speed", "speed_pct": 80})
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["delivered"] is False
    events = client.get("/api/v1/machines/mill-01/events").json()
    (event,) = [e for e in events if e["kind"] == "command"]
    assert event["data"]["command"]["speed_pct"] == 80
    assert "no receiver" in event["message"]


def test_in_process_sink_receives_commands(client: TestClient) -> None:
    received: list[Any] = []

    async def sink(command: Any) -> None:
        received.append(command)

    twin_of(client).commands.add_sink(sink)
    result = client.post("/api/v1/machines/mill-01/commands", json={"command": "stop"}).json()
    assert result["delivered"] is True
    assert [c.command.value for c in received] == ["stop"]


def test_websocket_gets_snapshot_then_readings_of_its_machines(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream?machines=mill-02") as ws:
        snapshot = ws.receive_json()
        assert snapshot["type"] == "snapshot"
        assert [m["machine_id"] for m in snapshot["machines"]] == ["mill-02"]
        post_reading(client, "mill-01")
        post_reading(client, "mill-02", torque=41.0)
        message = ws.receive_json()
        while message["type"] != "reading":
            message = ws.receive_json()
        assert message["machine_id"] == "mill-02"
        assert message["values"]["torque"] == 41.0
        ws.send_json({"type": "subscribe", "machines": None})
        again = ws.receive_json()
        while again["type"] != "snapshot":
            again = ws.receive_json()
        assert len(again["machines"]) > 1
        ws.send_json({"type": "subscribe", "machines": "nope"})
        error = ws.receive_json()
        while error["type"] != "error":
            error = ws.receive_json()
        assert "machines" in error["detail"]


def test_active_alarms_survive_a_restart(tmp_path: Path) -> None:
    # A minute between readings: their rate of change stays far below the rate rule's limit however slowly the
    # test runs (with wall-clock times a loaded box once spaced the last two 1.1 s apart: 18 K/s, a rate alarm).
    start = datetime.now(UTC) - timedelta(minutes=3)
    with TestClient(create_app(settings_for(tmp_path))) as first:
        first.headers.update(bearer_sync(first))
        post_reading(first, ts=start, process_temp=330.0)
        settle(first)
        (alarm,) = active_alarms(first)
    with TestClient(create_app(settings_for(tmp_path))) as second:
        second.headers.update(bearer_sync(second))
        assert [a.id for a in twin_of(second).alarms.alarms()] == [alarm["id"]]
        post_reading(second, ts=start + timedelta(minutes=1), process_temp=331.0)  # same condition: updated
        settle(second)
        assert [a["id"] for a in active_alarms(second)] == [alarm["id"]]
        post_reading(second, ts=start + timedelta(minutes=2), process_temp=310.0)
        settle(second)
        assert active_alarms(second) == []


def test_silent_machine_goes_offline_with_an_alarm(tmp_path: Path) -> None:
    # An hour of allowed silence: the service's own watch never fires during the test; the test moves the
    # watch's monotonic clock past the hour instead (check_offline takes the time it checks at).
    with TestClient(create_app(settings_for(tmp_path, offline_after_s=3600.0))) as client:
        client.headers.update(bearer_sync(client))
        assert client.portal is not None
        twin = twin_of(client)
        post_reading(client)
        assert client.portal.call(twin.check_offline, time.monotonic() + 1800.0) == []
        assert client.portal.call(twin.check_offline, time.monotonic() + 3601.0) == ["mill-01"]
        settle(client)
        (alarm,) = active_alarms(client)
        assert alarm["type"] == "offline"
        assert client.get("/api/v1/machines/mill-01").json()["state"]["status"] == "offline"
        post_reading(client)
        settle(client)
        assert active_alarms(client) == []
        assert client.get("/api/v1/machines/mill-01").json()["state"]["status"] == "running"


def test_health_lists_the_twin_section(client: TestClient) -> None:
    sections = client.get("/api/v1/health").json()["sections"]
    assert sections["twin"]["bus"] == "in-process"


def as_operator(client: TestClient, name: str = "olga") -> None:
    """Let the client's requests through the guards as operator ``name`` (the guard itself is tested in api/)."""
    assert isinstance(client.app, FastAPI)
    who = Principal(kind=PrincipalKind.CLI, name=name, role=Role.OPERATOR)
    client.app.dependency_overrides[authenticated] = lambda: who
    client.app.dependency_overrides[auth_service] = lambda: None  # asked only to audit a refusal


def test_an_alarm_is_shelved_with_a_reason_commented_and_unshelved_by_the_operator(client: TestClient) -> None:
    as_operator(client)
    post_reading(client, process_temp=330.0)
    settle(client)
    (alarm,) = active_alarms(client)
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    shelved = client.post(f"/api/v1/alarms/{alarm['id']}/shelve", json={"until": until, "reason": "sensor swap"})
    assert shelved.status_code == 200, shelved.text
    assert (shelved.json()["shelved_by"], shelved.json()["shelve_reason"]) == ("olga", "sensor swap")
    commented = client.post(f"/api/v1/alarms/{alarm['id']}/comments", json={"text": "swapping at 14:00"}).json()
    assert [(c["by"], c["text"]) for c in commented["comments"]] == [("olga", "swapping at 14:00")]
    (stored,) = active_alarms(client)  # persisted: the store's row has the shelf and the comment
    assert stored["shelved_until"] is not None
    assert stored["comments"][0]["text"] == "swapping at 14:00"
    unshelved = client.post(f"/api/v1/alarms/{alarm['id']}/unshelve").json()
    assert unshelved["shelved_until"] is None


def test_shelving_in_the_past_or_a_cleared_alarm_is_422_naming_the_field(client: TestClient) -> None:
    as_operator(client)
    post_reading(client, process_temp=330.0)
    settle(client)
    (alarm,) = active_alarms(client)
    past = client.post(f"/api/v1/alarms/{alarm['id']}/shelve", json={"until": "2020-01-01T00:00:00Z", "reason": "x"})
    assert past.status_code == 422
    assert past.json()["detail"][0]["loc"] == ["body", "until"]
    client.post(f"/api/v1/alarms/{alarm['id']}/clear")
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    cleared = client.post(f"/api/v1/alarms/{alarm['id']}/shelve", json={"until": until, "reason": "x"})
    assert cleared.status_code == 422
    assert cleared.json()["detail"][0]["loc"] == ["path", "alarm_id"]
