"""Dictionary encoding of machines and sensors, and the SQL filters both backends share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from factorytwin.domain import Event, unstorable_text
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.store._rows import to_ms
from factorytwin.store.base import AlarmQuery, EventQuery, ReadingColumns


class Dictionary:
    """The store's small-integer codes of machine ids and sensor keys, mirrored in memory.

    Loaded at open and after ``register_machines``; the hot path maps strings to codes with dict look-ups only.
    """

    def __init__(self) -> None:
        self.machines: dict[str, int] = {}
        self.sensors: dict[str, int] = {}
        self.sensor_keys: dict[int, str] = {}

    def load(self, machines: Iterable[Sequence[Any]], sensors: Iterable[Sequence[Any]]) -> None:
        """Replace the codes with ``(id, num)`` machine rows and ``(key, num)`` sensor rows."""
        self.machines = {str(m[0]): int(m[1]) for m in machines}
        self.sensors = {str(s[0]): int(s[1]) for s in sensors}
        self.sensor_keys = {num: key for key, num in self.sensors.items()}

    def machine_num(self, machine_id: str) -> int | None:
        """The code of a registered machine, or None."""
        return self.machines.get(machine_id)

    def sensor_num(self, key: str) -> int | None:
        """The code of a known sensor key, or None."""
        return self.sensors.get(key)

    def encode(self, readings: ReadingColumns) -> tuple[list[int], list[int]]:
        """Machine and sensor code columns of ``readings``; InvalidInput naming every unknown id or key."""
        machines, sensors = self.machines, self.sensors
        try:
            return [machines[m] for m in readings.machine_ids], [sensors[s] for s in readings.sensors]
        except KeyError:
            pass
        problems = [
            FieldProblem(("readings", i, "machine_id"), f"machine {m!r} is not registered", m)
            for i, m in enumerate(readings.machine_ids)
            if m not in machines
        ] + [
            FieldProblem(("readings", i, "sensor"), f"sensor {s!r} is not in the catalogue", s)
            for i, s in enumerate(readings.sensors)
            if s not in sensors
        ]
        raise InvalidInput(problems[:100])

    def check_event_machines(self, events: Sequence[Event]) -> None:
        """Raise InvalidInput when an event names an unregistered machine."""
        problems = [
            FieldProblem(("events", i, "machine_id"), f"machine {e.machine_id!r} is not registered", e.machine_id)
            for i, e in enumerate(events)
            if e.machine_id not in self.machines
        ]
        if problems:
            raise InvalidInput(problems)

    def decode_into(self, out: ReadingColumns, machine_id: str, rows: Iterable[Sequence[Any]]) -> None:
        """Append ``(sensor_num, ts, value)`` rows of one machine to ``out``."""
        keys = self.sensor_keys
        for sensor, ts, value in rows:
            out.machine_ids.append(machine_id)
            out.sensors.append(keys[sensor])
            out.ts_ms.append(ts)
            out.values.append(value)


class Params:
    """Collects query parameters and hands out placeholders in the backend's style (``?`` or ``$n``)."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        """Register ``value``; return its placeholder."""
        self.values.append(value)
        return "?" if self.style == "?" else f"${len(self.values)}"

    def add_in(self, column: str, values: Sequence[Any]) -> str:
        """``column IN (...)`` over ``values``."""
        return f"{column} IN ({', '.join(self.add(v) for v in values)})"


def _where(clauses: list[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def _before(p: Params, clauses: list[str], column: str, before: datetime | None, before_id: int | None) -> None:
    # Keyset pagination on the (time DESC, id DESC) order: strictly after the cursor in that order.
    if before is None:
        return
    ts = to_ms(before)
    if before_id is None:
        clauses.append(f"{column} < {p.add(ts)}")
    else:
        clauses.append(f"({column} < {p.add(ts)} OR ({column} = {p.add(ts)} AND id < {p.add(before_id)}))")


def searchable(machine_id: str | None) -> bool:
    """False when a filter's machine id holds text no row can hold: the answer is empty without asking SQL."""
    return machine_id is None or unstorable_text(machine_id) is None


def event_filter(query: EventQuery, style: str) -> tuple[str, list[Any]]:
    """WHERE clause and parameters of an event query (check ``searchable(query.machine_id)`` first)."""
    p = Params(style)
    clauses: list[str] = []
    if query.machine_id is not None:
        clauses.append(f"machine_id = {p.add(query.machine_id)}")
    if query.kinds:
        clauses.append(p.add_in("kind", [k.value for k in query.kinds]))
    if query.start is not None:
        clauses.append(f"ts >= {p.add(to_ms(query.start))}")
    if query.end is not None:
        clauses.append(f"ts < {p.add(to_ms(query.end))}")
    _before(p, clauses, "ts", query.before, query.before_id)
    return _where(clauses), p.values


def alarm_filter(query: AlarmQuery, style: str) -> tuple[str, list[Any]]:
    """WHERE clause and parameters of an alarm query (check ``searchable(query.machine_id)`` first)."""
    p = Params(style)
    clauses: list[str] = []
    if query.machine_id is not None:
        clauses.append(f"machine_id = {p.add(query.machine_id)}")
    if query.states:
        clauses.append(p.add_in("state", [s.value for s in query.states]))
    if query.severities:
        clauses.append(p.add_in("severity", [s.value for s in query.severities]))
    _before(p, clauses, "raised_at", query.before, query.before_id)
    return _where(clauses), p.values
