"""Typed JSON messages of the live twin: the WebSocket stream (server -> client) and the client's requests.

Every message has a ``type`` field; the contract is written down in ``docs/WEBSOCKET.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from factorytwin.domain import Alarm, Event, MachineKind, MachineStatus


class MachineState(BaseModel):
    """The live state of one machine, as the twin knows it from the telemetry it has seen."""

    machine_id: str
    kind: MachineKind
    status: MachineStatus
    health: float = Field(ge=0.0, le=100.0, description="0 (failed) to 100 (all values in their normal band)")
    last_seen: datetime | None = Field(description="when the twin last received telemetry from the machine")
    values: dict[str, float] = Field(description="newest value of each sensor")
    values_ts: datetime | None = Field(description="measurement time of the newest reading set")
    failure_probability: float | None = Field(default=None, description="from the ML prediction, when there is one")


class SnapshotMessage(BaseModel):
    """First message after connecting or (re)subscribing: the state of every subscribed machine."""

    type: Literal["snapshot"] = "snapshot"
    machines: list[MachineState]
    alarms: list[Alarm]


class ReadingMessage(BaseModel):
    """New sensor values of one machine, coalesced: the newest value of each sensor since the last message."""

    type: Literal["reading"] = "reading"
    machine_id: str
    ts: datetime
    values: dict[str, float]


class StateMessage(BaseModel):
    """A machine's status or health changed."""

    type: Literal["state"] = "state"
    state: MachineState


class AlarmMessage(BaseModel):
    """An alarm was raised, escalated, acknowledged or cleared."""

    type: Literal["alarm"] = "alarm"
    alarm: Alarm


class EventMessage(BaseModel):
    """An entry of a machine's event log (status change, fault, maintenance, command)."""

    type: Literal["event"] = "event"
    event: Event


class PredictionMessage(BaseModel):
    """A new failure prediction for a machine (published by the ML service)."""

    type: Literal["prediction"] = "prediction"
    machine_id: str
    prediction: dict[str, Any]


class ErrorMessage(BaseModel):
    """The server could not use a client's message; the connection stays open."""

    type: Literal["error"] = "error"
    detail: str


class SubscribeRequest(BaseModel):
    """Client -> server: stream these machines only (``None``: every machine)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe"]
    machines: list[str] | None = None
