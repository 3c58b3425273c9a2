"""Commands to simulated machines: validation with clear errors, and what each command does to a machine.

``apply_command`` is the one way in: the real-time driver calls it for MQTT messages, a test or the demo may call it
directly. It raises ``InvalidInput`` naming the field for an unknown machine, an unknown command or an
out-of-range setpoint; a valid command that the machine cannot follow now (start while failed) is answered with an
outcome that says so, and every command is logged as an event of kind ``command``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from factorytwin.domain import Command, CommandKind, CommandMessage
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.sim.engine import Engine
from factorytwin.sim.state import FAILED, IDLE, MAINTENANCE, RUNNING, STATUSES, STOPPED

COMMANDED_MAINTENANCE_HOURS = 2.0


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """Whether the machine followed a command, and what it says about it."""

    machine_id: str
    command: CommandKind
    accepted: bool
    message: str


def _problems(exc: ValidationError) -> InvalidInput:
    return InvalidInput(
        [FieldProblem(tuple(e["loc"]), e["msg"], e.get("input")) for e in exc.errors(include_url=False)]
    )


def parse_command_message(payload: bytes | str | dict[str, Any]) -> CommandMessage:
    """A ``CommandMessage`` from MQTT payload bytes, a JSON string or a dict; ``InvalidInput`` naming the field."""
    try:
        if isinstance(payload, dict):
            return CommandMessage.model_validate(payload)
        return CommandMessage.model_validate_json(payload)
    except ValidationError as exc:
        raise _problems(exc) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # pragma: no cover - pydantic reports these itself
        raise InvalidInput([FieldProblem((), f"not JSON: {exc}")]) from exc


def parse_command(payload: dict[str, Any]) -> Command:
    """A ``Command`` from a dict such as ``{"command": "set_speed", "speed_pct": 80}``; ``InvalidInput`` if bad."""
    try:
        return Command.model_validate(payload)
    except ValidationError as exc:
        raise _problems(exc) from exc


def machine_index(engine: Engine, machine_id: str) -> int:
    """The engine's index of ``machine_id``; ``InvalidInput`` on field ``machine_id`` when there is no such one."""
    try:
        return engine.index[machine_id]
    except KeyError:
        known = ", ".join(engine.machine_ids[:8]) + (" ..." if len(engine.machine_ids) > 8 else "")
        raise InvalidInput(
            [FieldProblem(("machine_id",), f"unknown machine {machine_id!r} (known: {known})", machine_id)]
        ) from None


def apply_command(
    engine: Engine, machine_id: str, command: Command, command_id: str | None = None, echo: bool = True
) -> CommandOutcome:
    """Make machine ``machine_id`` follow ``command`` now (between steps); log the outcome as a command event.

    The event is the machine's answer (``accepted``, the outcome in words, ``command_id``) as it goes over the wire;
    ``echo=False`` leaves it out, for a caller that answers in another way (the demo's in-process sink returns the
    outcome to the twin, which writes the command's one event itself)."""
    i = machine_index(engine, machine_id)
    if command.command is CommandKind.SET_SPEED:
        pct = command.speed_pct
        if pct is None or not (0.0 <= pct <= 120.0):
            raise InvalidInput([FieldProblem(("speed_pct",), "speed_pct must be 0-120 (percent of nominal)", pct)])
    before = int(engine.status[i])
    accepted, message = _follow(engine, i, command)
    after = int(engine.status[i])
    data: dict[str, object] = {"command": command.command.value, "accepted": accepted, "issued_by": command.issued_by}
    if command.speed_pct is not None:
        data["speed_pct"] = command.speed_pct
    if command_id is not None:
        data["command_id"] = command_id
    if echo:
        engine.emit(i, "command", None, message, **data)
    if after != before and after not in (MAINTENANCE,):
        engine.emit(i, "status", None, f"{STATUSES[before].value} -> {STATUSES[after].value} by command")
    return CommandOutcome(machine_id=machine_id, command=command.command, accepted=accepted, message=message)


def _follow(engine: Engine, i: int, command: Command) -> tuple[bool, str]:
    """Change machine ``i`` through the engine's command methods; (accepted, message)."""
    status = int(engine.status[i])
    kind = command.command
    if kind is CommandKind.SET_SPEED:
        assert command.speed_pct is not None
        engine.set_speed(i, command.speed_pct)
        return True, f"speed set to {command.speed_pct:g} % of nominal"
    if kind is CommandKind.STOP:
        engine.stop_machine(i)
        if status in (RUNNING, IDLE):
            return True, "stopped"
        if status == STOPPED:
            return True, "already stopped"
        return True, f"will stay stopped after the {STATUSES[status].value} ends"
    if kind is CommandKind.START:
        if status == FAILED:  # refused: nothing changes (it does not start by itself after the repair either)
            return False, "cannot start: the machine has failed and is being repaired"
        engine.start_machine(i)
        if status == STOPPED:
            return True, "started"
        if status == MAINTENANCE:
            return True, "will start when the maintenance ends"
        return True, "already running"
    # Also during a quick service (tool change): the operator asked for the full maintenance, every part renewed.
    engine.start_maintenance(i, COMMANDED_MAINTENANCE_HOURS, "commanded")
    return True, f"maintenance started ({COMMANDED_MAINTENANCE_HOURS:g} h)"
