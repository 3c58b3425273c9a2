"""Typed JSON messages of the live twin: the WebSocket stream (server -> client) and the client's requests.

Every message has a ``type`` field; ``ServerMessage`` and ``ClientMessage`` are the discriminated unions of each
direction, exported into the OpenAPI document (``api.app``) so that the browser's types are generated from them.
The contract is written down in ``docs/WEBSOCKET.md``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from factorytwin.domain import Alarm, CommandMessage, Event, Machine, MachineStatus
from factorytwin.prediction import Prediction

MAX_SUBSCRIBED_MACHINES = 10_000
"""Most machine ids one ``subscribe`` message may name (a factory has far fewer; this bounds what a client can
make the server hold)."""
MAX_MACHINE_ID_CHARS = 64


class ServerMessageBase(BaseModel):
    """A message the server sends: its schema lists defaulted fields (``type``) as required, since they are always
    present in what is sent."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class MachineState(BaseModel):
    """The live state of one machine, as the twin knows it from the telemetry it has seen."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    machine_id: str
    profile: str = Field(description="id of the machine's profile")
    status: MachineStatus
    health: float = Field(ge=0.0, le=100.0, description="0 (failed) to 100 (all values in their normal band)")
    last_seen: datetime | None = Field(description="when the twin last received telemetry from the machine")
    values: dict[str, float] = Field(description="newest value of each sensor")
    values_ts: datetime | None = Field(description="measurement time of the newest reading set")
    failure_probability: float | None = Field(default=None, description="from the ML prediction, when there is one")
    speed_pct: float = Field(
        default=100.0, description="speed setpoint, % of nominal, as last applied (100 until a set_speed is)"
    )
    failure_mode: str | None = Field(default=None, description="while failed: the failure mode the machine reported")


class SnapshotMessage(ServerMessageBase):
    """First message after connecting or (re)subscribing: the state of every subscribed machine, in parts.

    A large snapshot streams as several messages of up to 500 machines each (with those machines' active alarms):
    ``part`` 0 replaces what the client knew, later parts add to it, ``last`` is true on the final part. A plant
    of up to 500 machines (or a subscription to that many) is one message, part 0 and last."""

    type: Literal["snapshot"] = "snapshot"
    machines: list[MachineState]
    alarms: list[Alarm] = Field(description="the active alarms of this part's machines")
    part: int = Field(default=0, ge=0, description="0 for the first part (it replaces what the client knew)")
    last: bool = Field(default=True, description="true on the final part of the snapshot")


class ReadingMessage(ServerMessageBase):
    """New sensor values of one machine, coalesced: the newest value of each sensor since the last message."""

    type: Literal["reading"] = "reading"
    machine_id: str
    ts: datetime
    values: dict[str, float]


class StateMessage(ServerMessageBase):
    """A machine's status or health changed."""

    type: Literal["state"] = "state"
    state: MachineState


class AlarmMessage(ServerMessageBase):
    """An alarm was raised, escalated, acknowledged or cleared."""

    type: Literal["alarm"] = "alarm"
    alarm: Alarm


class EventMessage(ServerMessageBase):
    """An entry of a machine's event log (status change, fault, maintenance, command)."""

    type: Literal["event"] = "event"
    event: Event


class PredictionMessage(ServerMessageBase):
    """A new failure prediction for a machine (published by the ML service)."""

    type: Literal["prediction"] = "prediction"
    machine_id: str
    prediction: Prediction


class CommandState(StrEnum):
    """Where a command is in its lifecycle: pending -> delivered -> applied / refused / timed_out, or undelivered."""

    PENDING = "pending"
    DELIVERED = "delivered"
    APPLIED = "applied"
    REFUSED = "refused"
    TIMED_OUT = "timed_out"
    UNDELIVERED = "undelivered"


FINAL_COMMAND_STATES = frozenset(
    {CommandState.APPLIED, CommandState.REFUSED, CommandState.TIMED_OUT, CommandState.UNDELIVERED}
)


class CommandStatus(BaseModel):
    """A command and where it is: what the twin did with it and, once it answered, what the machine said."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    command: CommandMessage
    state: CommandState
    outcome: str = Field(description="what happened, in words (the transport's or the machine's)")
    answer: str | None = Field(default=None, description="the machine's own answer, when the path carries one")
    updated_at: datetime


class CommandStateMessage(ServerMessageBase):
    """A command moved in its lifecycle (delivered, applied, refused, timed out, undelivered)."""

    type: Literal["command"] = "command"
    status: CommandStatus


class MachineChangedMessage(ServerMessageBase):
    """A machine was created, changed (moved, renamed, another profile or band) or deleted: sent to every client,
    whatever it subscribed to, so every open dashboard redraws the plant at once."""

    type: Literal["machine_changed"] = "machine_changed"
    op: Literal["created", "updated", "deleted"]
    machine_id: str
    machine: Machine | None = Field(description="the machine as it is now; null when deleted")


ScenarioJobState = Literal["queued", "running", "done", "failed", "cancelled"]
"""Where a what-if job is: queued -> running -> done / failed / cancelled (a queued job may be cancelled too)."""


class ScenarioProgressMessage(ServerMessageBase):
    """A what-if scenario job (``POST /scenarios``) changed state or progressed: sent to every client. The results
    are not in it: once ``state`` is ``done``, ``GET /scenarios/{job_id}`` has them."""

    type: Literal["scenario"] = "scenario"
    job_id: str
    state: ScenarioJobState
    progress: float = Field(ge=0.0, le=1.0, description="fraction done (1 once done; kept as it was when failed)")
    message: str = Field(description="what the job is doing, or why it failed")
    names: list[str] = Field(description="the scenarios' names, in the order they were posted")
    updated_at: datetime


class ErrorMessage(ServerMessageBase):
    """The server could not use a client's message; the connection stays open."""

    type: Literal["error"] = "error"
    detail: str


class SubscribeRequest(BaseModel):
    """Client -> server: stream these machines only (``None``: every machine)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe"]
    machines: list[Annotated[str, Field(max_length=MAX_MACHINE_ID_CHARS)]] | None = Field(
        default=None, max_length=MAX_SUBSCRIBED_MACHINES, description="machine ids to follow; null: every machine"
    )


ServerMessage = Annotated[
    SnapshotMessage
    | ReadingMessage
    | StateMessage
    | AlarmMessage
    | EventMessage
    | PredictionMessage
    | CommandStateMessage
    | MachineChangedMessage
    | ScenarioProgressMessage
    | ErrorMessage,
    Field(discriminator="type"),
]
"""Every message the server sends on the stream, told apart by ``type``."""

BATCH_MAX_MESSAGES = 1000
"""Most messages in one ``batch`` frame."""


class BatchMessage(ServerMessageBase):
    """Several messages in one frame, in the order they were queued: sent only to a client that asked for it
    (``?batch=true``), and only when more than one message is waiting for it (a client that keeps up gets each
    message on its own, as before). A client watching 10,000 machines at 1 Hz is 10,000 messages a second; one
    WebSocket frame each (framing, per-message compression, a socket write) cost more than building them.

    Not a member of ``ServerMessage`` (what every client gets); a client that asks for batches gets
    ``BatchMessage | ServerMessage`` (``BATCHED_SERVER_MESSAGES``)."""

    type: Literal["batch"] = "batch"
    messages: list[ServerMessage] = Field(
        min_length=2, max_length=BATCH_MAX_MESSAGES, description="the messages, oldest first; never a batch"
    )


ClientMessage = Annotated[SubscribeRequest, Field(discriminator="type")]
"""Every message a client may send on the stream, told apart by ``type`` (one kind so far)."""

SERVER_MESSAGES: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
BATCHED_SERVER_MESSAGES: TypeAdapter[BatchMessage | ServerMessage] = TypeAdapter(BatchMessage | ServerMessage)
"""What a client that asked for batches (``?batch=true``) may receive."""
CLIENT_MESSAGES: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
