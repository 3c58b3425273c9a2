"""``PlantService``: create, change and delete machines while the twin runs.

The store holds the machines (``Store.machines``); the layout file only seeds an empty store and stays an
import/export format (``factorytwin layout import|export``). Each change is checked against the profiles
(``ProfileRegistry.check_machine``: an unknown profile or a band override that does not fit is a 422 naming the
field), written to the store, written to the event log (kind ``config``) and handed to every listener: ingest
accepts the machine's readings, the twin takes it into its live state and pushes ``machine_changed`` on the
WebSocket.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from factorytwin.domain import ID_PATTERN, Event, EventKind, FactoryLayout, Machine, ProductionLine
from factorytwin.errors import FieldProblem, InvalidInput, NotFound
from factorytwin.profiles.registry import ProfileRegistry
from factorytwin.store.base import Store

log = logging.getLogger(__name__)

Op = Literal["created", "updated", "deleted"]
MachineListener = Callable[[Op, str, Machine | None], None]
"""Told of every change: the operation, the machine id and the machine as it is now (None when deleted)."""
MAX_MACHINES = 20_000
"""Most machines one plant may have (a bound on what a client can make the server hold)."""


class PlantChanged(BaseModel):
    """A process changed the plant (a machine or a profile) in the store: the others read it from there.

    It carries no content on purpose: anyone on the broker can publish to the bus, so what the other processes put
    in force is what the store holds (written through the API, with its roles), never what a bus message says. A
    forged one costs a reload of the plant, no more (reloads are coalesced: ``api.lifespan.plant_sync_lifespan``)."""

    model_config = ConfigDict(extra="forbid")

    what: Literal["machine", "profile"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PlantService:
    """The machines of the plant, kept equal in memory (``machines``), in the store and in every listener."""

    def __init__(
        self,
        store: Store,
        registry: ProfileRegistry,
        floor: FactoryLayout,
        machines: dict[str, Machine],
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.registry = registry
        self.floor = floor
        self.machines = machines
        """Machine id -> machine: the one dict the app shares (``Services.machines``), changed in place."""
        self.now = now
        self.listeners: list[MachineListener] = []

    def add_listener(self, listener: MachineListener) -> None:
        """Call ``listener(op, machine_id, machine)`` after every change (its failures are logged only)."""
        self.listeners.append(listener)

    def layout(self) -> FactoryLayout:
        """The plant as a layout: the floor, its lines (with every line a machine names) and the machines."""
        machines = sorted(self.machines.values(), key=lambda m: m.id)
        lines = list(self.floor.lines)
        known = {line.id for line in lines}
        for machine in machines:
            if machine.line not in known and re.match(ID_PATTERN, machine.line):
                known.add(machine.line)
                lines.append(ProductionLine(id=machine.line, name=machine.line))
        return self.floor.model_copy(update={"lines": lines, "machines": machines})

    def machines_using(self, profile_id: str) -> list[str]:
        """The ids of the machines of a profile."""
        return sorted(m.id for m in self.machines.values() if m.profile == profile_id)

    async def create(self, machine: Machine, by: str) -> Machine:
        """Add a machine; ``InvalidInput`` naming the field for a taken id, an unknown profile or a bad band."""
        if machine.id in self.machines:
            raise InvalidInput([FieldProblem(("body", "id"), f"machine id {machine.id!r} is taken", machine.id)])
        if len(self.machines) >= MAX_MACHINES:
            msg = f"the plant has {len(self.machines)} machines, the most it may have"
            raise InvalidInput([FieldProblem(("body",), msg, machine.id)])
        self.registry.check_machine(machine)
        await self._save(machine)
        await self._log("created", machine.id, machine, by)
        return machine

    async def update(self, machine_id: str, machine: Machine, by: str) -> Machine:
        """Replace a machine (move, rotate, rename, another profile, bands, metadata); ``NotFound`` when there is
        none. The id cannot change: the history is the machine's."""
        if machine_id not in self.machines:
            raise NotFound(f"no machine {machine_id!r}; POST /machines creates one")
        if machine.id != machine_id:
            msg = f"the body's id {machine.id!r} differs from the path's {machine_id!r}; a machine cannot be renamed"
            raise InvalidInput([FieldProblem(("body", "id"), msg, machine.id)])
        self.registry.check_machine(machine)
        await self._save(machine)
        await self._log("updated", machine.id, machine, by)
        return machine

    async def delete(self, machine_id: str, by: str) -> None:
        """Take a machine off the plant (its history stays readable); ``NotFound`` when there is none."""
        machine = self.machines.get(machine_id)
        if machine is None:
            raise NotFound(f"no machine {machine_id!r}")
        await self._write_event("deleted", machine_id, machine, by)
        await self.store.retire_machine(machine_id)
        del self.machines[machine_id]
        self._tell("deleted", machine_id, None)

    def reconcile(self, stored: list[Machine]) -> int:
        """Take the plant as the store holds it (``stored``: ``Store.machines()``), after another process changed
        it: each machine created, changed or deleted there is put in force here and told to every listener,
        without writing anything. Returns how many machines changed (0 when this process was up to date)."""
        wanted = {m.id: m for m in stored}
        changed = 0
        for machine_id in [mid for mid in self.machines if mid not in wanted]:
            del self.machines[machine_id]
            self._tell("deleted", machine_id, None)
            changed += 1
        for machine_id, machine in wanted.items():
            current = self.machines.get(machine_id)
            if current == machine:
                continue
            self.machines[machine_id] = machine
            self._tell("created" if current is None else "updated", machine_id, machine)
            changed += 1
        return changed

    def announce(self, machine_id: str) -> None:
        """Tell every listener a machine changed though its record did not (its profile got a new version)."""
        machine = self.machines.get(machine_id)
        if machine is not None:
            self._tell("updated", machine_id, machine)

    async def _save(self, machine: Machine) -> None:
        await self.store.register_sensors(list(self.registry.specs(machine.profile)))
        await self.store.register_machines([machine])
        self.machines[machine.id] = machine

    async def _log(self, op: Op, machine_id: str, machine: Machine, by: str) -> None:
        await self._write_event(op, machine_id, machine, by)
        self._tell(op, machine_id, machine)

    async def _write_event(self, op: Op, machine_id: str, machine: Machine, by: str) -> None:
        event = Event(
            machine_id=machine_id,
            ts=self.now(),
            kind=EventKind.CONFIG,
            message=f"machine {op} by {by}",
            data={"op": op, "by": by, "machine": machine.model_dump(mode="json")},
        )
        try:
            await self.store.write_events([event])
        except InvalidInput:  # e.g. metadata too large for an event: the change stands, the log says less
            await self.store.write_events([event.model_copy(update={"data": {"op": op, "by": by}})])

    def _tell(self, op: Op, machine_id: str, machine: Machine | None) -> None:
        for listener in self.listeners:
            try:
                listener(op, machine_id, machine)
            except Exception:
                log.exception("machine %s %s: a listener failed", machine_id, op)
