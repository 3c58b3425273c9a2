"""The control channel: commands to machines, over MQTT (``ft/<machine_id>/commands``, QoS 1) or in process.

With MQTT configured a command is published for whatever listens on the machine's command topic (the simulator,
a Node-RED flow, a real gateway). Without MQTT it is handed to the in-process sinks, for instance the demo's
simulator running in the same process.

Lifecycle (``messages.CommandState``): ``pending`` -> ``delivered`` -> ``applied`` / ``refused`` / ``timed_out``;
or ``undelivered`` when it could not leave the twin (no receiver, broker unreachable). An in-process sink answers
at once (returning: applied; raising: refused with its message). Over MQTT the machine answers with an event of
kind ``command`` carrying the command's id (``data.command_id``) and ``data.accepted``: the ``CommandLedger`` matches
it to the command; no answer within the timeout is ``timed_out``.

One event per command: the machine's answer is that event when it comes over the wire; otherwise (in process,
undelivered, timed out) the twin writes it, once, with the outcome. A sink raises ``NotServed`` for a machine it
does not run (a machine of the layout that reports over HTTP by itself, say): when no sink runs the machine, the
command is ``undelivered``, not refused.

Wiring an in-process simulator (a sink that raises refuses the command; the outcome carries its message)::

    from factorytwin.sim.commands import apply_command

    async def obey(command: CommandMessage) -> str:
        outcome = apply_command(engine, command.machine_id, command, command_id=command.id, echo=False)
        if not outcome.accepted:
            raise RuntimeError(outcome.message)
        return outcome.message

    services.twin.commands.add_sink(obey)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiomqtt

from factorytwin.domain import CommandKind, CommandMessage, Event
from factorytwin.mqtt import MqttLink
from factorytwin.twin.messages import CommandState, CommandStatus

log = logging.getLogger(__name__)

COMMAND_QOS = 1
CommandSink = Callable[[CommandMessage], Awaitable[str | None]]
"""An in-process machine: returns (optionally its answer in words) when it applied the command, raises to refuse,
raises ``NotServed`` when the machine is not one of its own."""


CommandRoute = Callable[[CommandMessage], Awaitable["DispatchOutcome | None"]]
"""A path to some machines other than MQTT and in-process sinks (e.g. an OPC UA connector's method call): the
outcome for a machine it serves, None for one it does not."""


class NotServed(Exception):
    """Raised by a command sink for a machine it does not run: the command did not reach that machine."""


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
    """Whether a command left the twin, how, and the state that leaves it in (``delivered``: an answer is due)."""

    delivered: bool
    outcome: str
    state: CommandState = CommandState.DELIVERED
    answer: str | None = None


class CommandDispatcher:
    """Sends commands over a route that serves the machine (``add_route``), else to MQTT when a link is given,
    else to the in-process sinks."""

    def __init__(self, link: MqttLink | None = None) -> None:
        self.link = link
        self._sinks: list[CommandSink] = []
        self._routes: list[CommandRoute] = []

    def add_route(self, route: CommandRoute) -> None:
        """Try ``route`` first for every command (a machine read over OPC UA is commanded over OPC UA)."""
        self._routes.append(route)

    def add_sink(self, sink: CommandSink) -> None:
        """Hand every command (without MQTT) to ``sink``, e.g. an in-process simulator's ``apply_command``."""
        self._sinks.append(sink)

    async def dispatch(self, command: CommandMessage) -> DispatchOutcome:
        """Send a command; never raises for a transport problem (the outcome says what happened)."""
        for route in self._routes:
            routed = await route(command)
            if routed is not None:
                return routed
        if self.link is not None:
            topic = command_topic(command.machine_id)
            try:
                await self.link.publish(topic, command.model_dump_json(), qos=COMMAND_QOS)
            except aiomqtt.MqttError as exc:
                log.warning("command %s to %s not published: %s", command.id, command.machine_id, exc)
                reason = f"not published: MQTT broker unreachable ({exc})"
                return DispatchOutcome(False, reason, CommandState.UNDELIVERED)
            return DispatchOutcome(True, f"published to {topic} (QoS {COMMAND_QOS})")
        if not self._sinks:
            reason = "no receiver: MQTT is not configured and no in-process machine listens"
            return DispatchOutcome(False, reason, CommandState.UNDELIVERED)
        failures: list[str] = []
        answers: list[str] = []
        served = False
        for sink in self._sinks:
            try:
                said = await sink(command)
                served = True
                if said:
                    answers.append(said)
            except NotServed:
                continue
            except Exception as exc:  # a sink is foreign code: report, never crash the API
                log.exception("in-process command sink failed on %s", command.id)
                served = True
                failures.append(str(exc) or type(exc).__name__)
        if not served:
            reason = f"no receiver: no in-process machine runs {command.machine_id} and MQTT is not configured"
            return DispatchOutcome(False, reason, CommandState.UNDELIVERED)
        if failures:
            why = "; ".join(failures)
            return DispatchOutcome(True, "refused by the in-process machine: " + why, CommandState.REFUSED, why)
        answer = "; ".join(answers) or None
        outcome = "applied by the in-process machine" + (f": {answer}" if answer else "")
        return DispatchOutcome(True, outcome, CommandState.APPLIED, answer)


class CommandLedger:
    """Commands waiting for the machine's answer: matched by id to the answer events, timed out after
    ``timeout_s`` of the twin's clock."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout = timedelta(seconds=timeout_s)
        self._waiting: dict[str, CommandStatus] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def wait_for_answer(self, status: CommandStatus) -> None:
        """Track a delivered command until it is answered or times out."""
        self._waiting[status.command.id] = status

    def answer(self, event: Event, now: datetime) -> CommandStatus | None:
        """The command a machine's ``command`` event answers, now applied or refused (None: not one of ours)."""
        command_id = event.data.get("command_id")
        status = self._waiting.pop(command_id, None) if isinstance(command_id, str) else None
        if status is None or status.command.machine_id != event.machine_id:
            if status is not None:  # another machine's event naming our id: not an answer, keep waiting
                self._waiting[status.command.id] = status
            return None
        accepted = event.data.get("accepted") is True
        status.state = CommandState.APPLIED if accepted else CommandState.REFUSED
        status.answer = event.message or None
        status.outcome = f"{'applied' if accepted else 'refused'} by the machine: {event.message}".rstrip(": ")
        status.updated_at = now
        return status

    def expire(self, now: datetime) -> list[CommandStatus]:
        """Commands unanswered for the timeout, now ``timed_out``."""
        late = [s for s in self._waiting.values() if now - s.updated_at >= self.timeout]
        for status in late:
            del self._waiting[status.command.id]
            status.state = CommandState.TIMED_OUT
            status.outcome = f"no answer from the machine in {self.timeout.total_seconds():g} s"
            status.updated_at = now
        return late
