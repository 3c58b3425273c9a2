"""Command lifecycle: pending -> delivered -> applied / refused / timed out, or undelivered; one event per command."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from factorytwin.config import Settings
from factorytwin.domain import Command, CommandKind, CommandMessage, Event, EventKind
from factorytwin.mqtt import MqttLink
from factorytwin.store.base import EventQuery
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.twin.bus import InProcessBus
from factorytwin.twin.commands import CommandDispatcher, DispatchOutcome, NotServed
from factorytwin.twin.messages import CommandState
from factorytwin.twin.service import TwinService
from tests.unit.twin.helpers import T0, batch, machine, reading


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class FakeLink:
    """Stands in for the MQTT link: keeps what is published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str]] = []

    async def publish(self, topic: str, payload: str, qos: int = 0) -> None:
        self.published.append((topic, payload))


@pytest.fixture
async def twin(tmp_path: Path) -> AsyncIterator[TwinService]:
    store = SQLiteStore(tmp_path / "twin.db")
    await store.open()
    await store.register_machines([machine()])
    service = TwinService(
        Settings(database_url="sqlite:///unused.db", command_timeout_s=10.0), store, InProcessBus(), clock=Clock()
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        await store.close()


def clock_of(twin: TwinService) -> Clock:
    return cast(Clock, twin.clock)


async def command_events(twin: TwinService) -> list[Event]:
    return [e for e in await twin.store.events(EventQuery(machine_id="mill-01")) if e.kind is EventKind.COMMAND]


def stream_states(twin: TwinService, client: Any) -> list[str]:
    out: list[str] = []
    while not client.queue.empty():
        text = client.queue.get_nowait()
        if text is not None and '"type":"command"' in text:
            out.append(json.loads(text)["status"]["state"])
    return out


async def test_a_command_nobody_receives_is_undelivered_with_one_event(twin: TwinService) -> None:
    result = await twin.send_command("mill-01", Command(command=CommandKind.STOP))
    assert (result.state, result.delivered) == (CommandState.UNDELIVERED, False)
    (event,) = await command_events(twin)
    assert event.id == result.event_id
    assert "no receiver" in event.message
    assert event.data["state"] == "undelivered"


async def test_an_in_process_machine_applies_or_refuses_with_its_answer_and_one_event_each(
    twin: TwinService,
) -> None:
    async def sink(command: CommandMessage) -> str:
        if command.command is CommandKind.START:
            raise ValueError("cannot start: the machine has failed")
        return f"speed set to {command.speed_pct:g} %"

    twin.commands.add_sink(sink)
    client = twin.hub.connect()
    applied = await twin.send_command("mill-01", Command(command=CommandKind.SET_SPEED, speed_pct=60.0))
    assert (applied.state, applied.answer) == (CommandState.APPLIED, "speed set to 60 %")
    assert twin.machine_state("mill-01") is not None
    assert twin.state.machines["mill-01"].speed_pct == 60.0  # the setpoint the bands now follow
    refused = await twin.send_command("mill-01", Command(command=CommandKind.START))
    assert refused.state is CommandState.REFUSED
    assert refused.answer == "cannot start: the machine has failed"
    events = await command_events(twin)
    assert sorted(e.data["state"] for e in events) == ["applied", "refused"]
    assert stream_states(twin, client) == ["applied", "refused"]


async def test_a_machine_no_in_process_sink_runs_is_undelivered_not_refused(twin: TwinService) -> None:
    async def other_machines_only(command: CommandMessage) -> str:
        raise NotServed(command.machine_id)

    twin.commands.add_sink(other_machines_only)
    result = await twin.send_command("mill-01", Command(command=CommandKind.STOP))
    assert (result.state, result.delivered) == (CommandState.UNDELIVERED, False)
    assert result.outcome.startswith("no receiver: no in-process machine runs mill-01")
    (event,) = await command_events(twin)
    assert event.data["state"] == "undelivered"


def over_mqtt(twin: TwinService) -> FakeLink:
    link = FakeLink()
    twin.commands = CommandDispatcher(cast(MqttLink, link))
    return link


def answer(command_id: str, accepted: bool, message: str, machine_id: str = "mill-01") -> Event:
    data = {"command": "stop", "accepted": accepted, "command_id": command_id}
    return Event(machine_id=machine_id, ts=T0, kind=EventKind.COMMAND, message=message, data=data)


async def test_a_published_command_is_delivered_then_applied_by_the_machines_answer_which_is_its_one_event(
    twin: TwinService,
) -> None:
    link = over_mqtt(twin)
    client = twin.hub.connect()
    result = await twin.send_command("mill-01", Command(command=CommandKind.STOP))
    assert (result.state, result.event_id) == (CommandState.DELIVERED, None)
    assert link.published[0][0] == "ft/mill-01/commands"
    assert await command_events(twin) == []  # the machine's answer will be the event
    other = answer(result.command.id, True, "stopped", machine_id="mill-02")
    await twin.on_ingested(batch(reading(1), events=[answer("someone-else", True, "stopped"), other]), 8)
    assert len(twin.ledger) == 1  # neither answers it
    await twin.on_ingested(batch(reading(2), events=[answer(result.command.id, True, "stopped")]), 8)
    assert len(twin.ledger) == 0
    assert stream_states(twin, client) == ["delivered", "applied"]


async def test_a_refusal_over_the_wire_carries_the_machines_reason(twin: TwinService) -> None:
    over_mqtt(twin)
    client = twin.hub.connect()
    result = await twin.send_command("mill-01", Command(command=CommandKind.START))
    refusal = answer(result.command.id, False, "cannot start: the machine has failed and is being repaired")
    await twin.on_ingested(batch(reading(1), events=[refusal]), 8)
    states = []
    while not client.queue.empty():
        text = client.queue.get_nowait()
        if text is not None and '"type":"command"' in text:
            states.append(json.loads(text)["status"])
    assert [s["state"] for s in states] == ["delivered", "refused"]
    assert states[-1]["answer"] == "cannot start: the machine has failed and is being repaired"


async def test_an_unanswered_command_times_out_with_one_event(twin: TwinService) -> None:
    over_mqtt(twin)
    result = await twin.send_command("mill-01", Command(command=CommandKind.STOP))
    clock_of(twin).now = T0 + timedelta(seconds=9)
    assert await twin.expire_commands() == []
    clock_of(twin).now = T0 + timedelta(seconds=10)
    (late,) = await twin.expire_commands()
    assert late.command.id == result.command.id
    assert late.state is CommandState.TIMED_OUT
    (event,) = await command_events(twin)
    assert event.data["state"] == "timed_out"
    assert "no answer from the machine in 10 s" in event.message


async def test_a_route_carries_the_commands_it_serves_before_mqtt_and_leaves_the_others(twin: TwinService) -> None:
    link = over_mqtt(twin)

    async def opcua_route(command: CommandMessage) -> DispatchOutcome | None:
        if command.command is CommandKind.MAINTAIN:  # not one of the connector's commands
            return None
        if command.command is CommandKind.START:
            return DispatchOutcome(True, "OPC UA connector plc1: BadUserAccessDenied", CommandState.REFUSED, "denied")
        return DispatchOutcome(True, "applied over OPC UA (plc1 stop)", CommandState.APPLIED)

    twin.commands.add_route(opcua_route)
    applied = await twin.send_command("mill-01", Command(command=CommandKind.STOP))
    assert (applied.state, applied.outcome) == (CommandState.APPLIED, "applied over OPC UA (plc1 stop)")
    refused = await twin.send_command("mill-01", Command(command=CommandKind.START))
    assert (refused.state, refused.answer) == (CommandState.REFUSED, "denied")
    assert link.published == []
    published = await twin.send_command("mill-01", Command(command=CommandKind.MAINTAIN))
    assert published.state is CommandState.DELIVERED
    assert len(link.published) == 1
