"""The control channel: commands to machines, over MQTT (``ft/<machine_id>/commands``, QoS 1) or in process.

With MQTT configured a command is published for whatever listens on the machine's command topic (the simulator,
a Node-RED flow, a real gateway). Without MQTT it is handed to the in-process sinks, for instance the demo's
simulator running in the same process. The outcome says which, and is written to the machine's event log.

Wiring an in-process simulator (a sink that raises refuses the command; the outcome carries its message)::

    from factorytwin.sim.commands import apply_command

    async def obey(command: CommandMessage) -> None:
        outcome = apply_command(engine, command.machine_id, command, command_id=command.id)
        if not outcome.accepted:
            raise RuntimeError(outcome.message)

    services.twin.commands.add_sink(obey)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomqtt

from factorytwin.domain import CommandKind, CommandMessage
from factorytwin.mqtt import MqttLink

log = logging.getLogger(__name__)

COMMAND_QOS = 1
CommandSink = Callable[[CommandMessage], Awaitable[None]]


def command_topic(machine_id: str) -> str:
    """The MQTT topic a machine's commands go to."""
    return f"ft/{machine_id}/commands"


def describe(command: CommandMessage) -> str:
    """A short human description of a command, for the event log."""
    if command.command is CommandKind.SET_SPEED:
        return f"set_speed {command.speed_pct:g} % by {command.issued_by}"
    return f"{command.command.value} by {command.issued_by}"


@dataclass(frozen=True, slots=True)
class DispatchOutcome:
    """Whether a command left the twin, and how."""

    delivered: bool
    outcome: str


class CommandDispatcher:
    """Sends commands to MQTT when a link is given, else to the in-process sinks."""

    def __init__(self, link: MqttLink | None = None) -> None:
        self.link = link
        self._sinks: list[CommandSink] = []

    def add_sink(self, sink: CommandSink) -> None:
        """Hand every command (without MQTT) to ``sink``, e.g. an in-process simulator's ``apply_command``."""
        self._sinks.append(sink)

    async def dispatch(self, command: CommandMessage) -> DispatchOutcome:
        """Send a command; never raises for a transport problem (the outcome says what happened)."""
        if self.link is not None:
            topic = command_topic(command.machine_id)
            try:
                await self.link.publish(topic, command.model_dump_json(), qos=COMMAND_QOS)
            except aiomqtt.MqttError as exc:
                log.warning("command %s to %s not published: %s", command.id, command.machine_id, exc)
                return DispatchOutcome(False, f"not published: MQTT broker unreachable ({exc})")
            return DispatchOutcome(True, f"published to {topic} (QoS {COMMAND_QOS})")
        if not self._sinks:
            return DispatchOutcome(False, "no receiver: MQTT is not configured and no in-process machine listens")
        failures: list[str] = []
        for sink in self._sinks:
            try:
                await sink(command)
            except Exception as exc:  # a sink is foreign code: report, never crash the API
                log.exception("in-process command sink failed on %s", command.id)
                failures.append(str(exc) or type(exc).__name__)
        if failures:
            return DispatchOutcome(False, "refused by the in-process machine: " + "; ".join(failures))
        return DispatchOutcome(True, "delivered to the in-process machine")
