"""The live twin: machine state and health, alarm rules and lifecycle, event bus, WebSocket stream, commands."""

from __future__ import annotations

from factorytwin.mqtt import MqttEndpoint
from factorytwin.twin.bus import BusEvent, EventBus, InProcessBus, MqttBus
from factorytwin.twin.commands import CommandDispatcher, CommandSink, command_topic
from factorytwin.twin.messages import MachineState, SnapshotMessage
from factorytwin.twin.service import CommandResult, TwinService
from factorytwin.twin.stream import StreamClient, StreamHub

__all__ = [
    "BusEvent",
    "CommandDispatcher",
    "CommandResult",
    "CommandSink",
    "EventBus",
    "InProcessBus",
    "MachineState",
    "MqttBus",
    "MqttEndpoint",
    "SnapshotMessage",
    "StreamClient",
    "StreamHub",
    "TwinService",
    "command_topic",
]
