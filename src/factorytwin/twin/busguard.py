"""What the twin accepts from the MQTT bus: anyone on the broker can publish to ``ft/_bus/events/#``.

``BusEvent.decode`` already validates the wire shape with pydantic; ``BusGuard`` checks the content against the
factory, as ingest does for telemetry: known machines, known sensors, values in their physical range, timestamps
in the bounds ingest uses (``min_timestamp``, ``max_future_skew_s``); alarms only of a type the rules can raise for
that machine's sensors, carrying the store id they were saved with. So the bus can never hold more alarms than one
per (machine, rule type): for the default factory of 16 machines that is at most 392, never the 9,496 a
flood of forged alarms once left in the twin.

``EchoGuard`` drops a process's own events when the broker sends them back: MQTT v5's "No Local" subscription
option (``MqttBus`` asks for it) keeps them from coming at all; over MQTT 3.1.1, or a broker or bridge that does not
honour it, each echo is recognised by the first bytes ``BusEvent.encode`` writes (its type and this process's
origin) and dropped before it is decoded. A forged message claiming this process's origin is dropped the same way
(never applied either way: the twin applies no event of its own origin from the bus).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from factorytwin.domain import Alarm, Event, SensorSpec, TelemetryBatch
from factorytwin.plant.service import PlantChanged
from factorytwin.twin.rules import FAILED, OFFLINE

MAX_ALARM_MESSAGE_CHARS = 500
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def alarm_types(specs: Mapping[str, SensorSpec]) -> set[str]:
    """Every alarm type the rules can raise for a machine with these sensors."""
    types = {OFFLINE, FAILED}
    for key in specs:
        types |= {f"high:{key}", f"low:{key}", f"rate:{key}"}
    return types


class EchoGuard:
    """Tells this process's own bus messages (``{"type": "<type>", "origin": "<origin>", ...``) from the others'."""

    def __init__(self, origin: str, topic_prefix: str) -> None:
        self.origin = origin
        self.topic_prefix = topic_prefix
        self.echoes = 0

    def is_echo(self, topic: str, raw: bytes) -> bool:
        """True (and counted in ``echoes``) when ``raw`` on ``topic`` is this process's own event come back."""
        kind = topic.removeprefix(self.topic_prefix)
        if raw.startswith(f'{{"type": "{kind}", "origin": "{self.origin}",'.encode()):
            self.echoes += 1
            return True
        return False


class BusGuard:
    """Checks a bus event's content against the factory; ``problem`` names what is wrong, or None."""

    def __init__(
        self,
        machines: Mapping[str, Mapping[str, SensorSpec]],
        max_future_skew_s: float = 300.0,
        earliest: datetime = EARLIEST,
    ) -> None:
        self.specs = machines
        self.alarm_types = {machine_id: alarm_types(specs) for machine_id, specs in machines.items()}
        self.max_future = timedelta(seconds=max_future_skew_s)
        self.earliest = earliest

    def problem(self, payload: object) -> str | None:
        """Why this payload must not be applied, or None when it may."""
        if isinstance(payload, TelemetryBatch):
            return self._telemetry(payload)
        if isinstance(payload, Alarm):
            return self._alarm(payload)
        if isinstance(payload, Event):
            return self._machine(payload.machine_id) or self._ts(payload.ts)
        if isinstance(payload, PlantChanged):
            return None  # content-free: the store says what changed
        machine_id = payload.get("machine_id") if isinstance(payload, dict) else getattr(payload, "machine_id", None)
        if not isinstance(machine_id, str):
            return "prediction without a machine_id"
        return self._machine(machine_id)

    def _machine(self, machine_id: str) -> str | None:
        return None if machine_id in self.specs else f"unknown machine {machine_id!r}"

    def _ts(self, ts: datetime, latest: datetime | None = None) -> str | None:
        try:
            in_bounds = self.earliest <= ts <= (latest or datetime.now(UTC) + self.max_future)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00, before year 1 in UTC
            in_bounds = False
        return None if in_bounds else f"timestamp {ts.isoformat()} out of bounds"

    def _telemetry(self, batch: TelemetryBatch) -> str | None:
        latest = datetime.now(UTC) + self.max_future  # once per batch, not per reading set
        earliest, machines = self.earliest, self.specs
        for rs in batch.readings:
            specs = machines.get(rs.machine_id)
            if specs is None:
                return f"unknown machine {rs.machine_id!r}"
            try:
                in_bounds = earliest <= rs.ts <= latest
            except OverflowError:
                in_bounds = False
            if not in_bounds:
                return self._ts(rs.ts, latest)
            for key, value in rs.values.items():
                spec = specs.get(key)
                if spec is None or not (spec.low <= value <= spec.high):
                    return f"{rs.machine_id}.{key}: {value!r} is not a value of a known sensor in its physical range"
        for event in batch.events:
            if (bad := self._machine(event.machine_id) or self._ts(event.ts, latest)) is not None:
                return bad
        return None

    def _alarm(self, alarm: Alarm) -> str | None:
        types = self.alarm_types.get(alarm.machine_id)
        if types is None:
            return f"unknown machine {alarm.machine_id!r}"
        if alarm.type not in types:
            return f"alarm type {alarm.type!r} is not one the rules raise for {alarm.machine_id!r}"
        if alarm.id is None:
            return "alarm without a store id (alarms travel the bus once saved)"
        if len(alarm.message) > MAX_ALARM_MESSAGE_CHARS:
            return "alarm message too long"
        return None


__all__ = ["BusGuard", "EchoGuard", "alarm_types"]
