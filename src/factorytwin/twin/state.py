"""The live state of every machine, updated in memory from each ingested batch (never read back from the store).

Status comes from the batch's events (kinds status/fault/maintenance carry a status) and, where no event says,
is inferred from the machine's activity sensor (its spindle, motor or belt speed): running when it moves, idle
when it does not. ``failed`` and ``maintenance`` stick until an event says otherwise; ``stopped`` (from an event)
lasts until the machine moves again. A machine silent for ``offline_after_s`` is ``offline`` until it reports.

The operating point is kept too: the speed setpoint (``speed_pct``, 100 % until a ``set_speed`` is applied: the
twin learns it from the machine's answer to the command, an event of kind ``command`` with ``accepted`` true,
or from its own in-process delivery), and the failure mode the machine reported with its failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from factorytwin.domain import (
    Event,
    EventKind,
    Machine,
    MachineStatus,
    SensorSpec,
    SpecsOf,
    TelemetryBatch,
)
from factorytwin.profiles.registry import ProfileRegistry
from factorytwin.twin.messages import MachineState

# Below IDLE_FRACTION of its activity sensor's normal band's lower edge a machine is taken to stand still.
IDLE_FRACTION = 0.1
# Rates of change are taken over at least this span: over milliseconds, sensor noise looks like a jump.
RATE_MIN_SPAN_MS = 1000
STICKY_STATUSES = frozenset({MachineStatus.FAILED, MachineStatus.MAINTENANCE})
STATUS_EVENT_KINDS = frozenset({EventKind.STATUS, EventKind.FAULT, EventKind.MAINTENANCE})


def ms_to_datetime(ts_ms: int) -> datetime:
    """Milliseconds since the Unix epoch -> aware UTC datetime."""
    return datetime.fromtimestamp(ts_ms / 1000.0, tz=UTC)


@dataclass(slots=True)
class SensorObservation:
    """What one batch showed of one sensor: extremes (to raise alarms), newest value (to clear them), rate."""

    last: float
    maximum: float
    minimum: float
    rate: float = 0.0  # fastest |change| per second seen in the batch, in the sensor's unit per second

    def add(self, value: float) -> None:
        """Fold a newer value of the same sensor into the observation."""
        self.last = value
        self.maximum = max(self.maximum, value)
        self.minimum = min(self.minimum, value)


@dataclass(slots=True)
class MachineUpdate:
    """What one batch changed for one machine: the twin's input to the alarm rules and the stream."""

    machine_id: str
    profile: str
    status: MachineStatus
    values: dict[str, float] = field(default_factory=dict)
    ts_ms: int | None = None
    observations: dict[str, SensorObservation] = field(default_factory=dict)
    status_changed: bool = False
    setpoint_changed: bool = False
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class LiveMachine:
    """The mutable live record of one machine."""

    machine_id: str
    profile: str
    specs: dict[str, SensorSpec]
    activity: SensorSpec | None = None
    """The sensor that tells running from idle (the profile's activity sensor), if it has one."""
    status: MachineStatus = MachineStatus.OFFLINE
    explicit_status: MachineStatus | None = None
    explicit_ts_ms: int = -1
    values: dict[str, float] = field(default_factory=dict)
    value_ts_ms: dict[str, int] = field(default_factory=dict)
    values_ts_ms: int | None = None
    rate_ref: dict[str, tuple[float, int]] = field(default_factory=dict)
    last_seen: datetime | None = None
    last_seen_mono: float | None = None
    health: float = 100.0
    failure_probability: float | None = None
    speed_pct: float = 100.0
    failure_mode: str | None = None

    def to_state(self) -> MachineState:
        """A wire snapshot of this machine."""
        return MachineState(
            machine_id=self.machine_id,
            profile=self.profile,
            status=self.status,
            health=self.health,
            last_seen=self.last_seen,
            values=dict(self.values),
            values_ts=ms_to_datetime(self.values_ts_ms) if self.values_ts_ms is not None else None,
            failure_probability=self.failure_probability,
            speed_pct=self.speed_pct,
            failure_mode=self.failure_mode if self.status is MachineStatus.FAILED else None,
        )


def take_setpoint(live: LiveMachine, event: Event) -> bool:
    """Adopt the speed setpoint of an applied ``set_speed`` command (the machine's answer to it); True when the
    setpoint changed."""
    data = event.data
    pct = data.get("speed_pct")
    if data.get("command") != "set_speed" or data.get("accepted") is not True or not isinstance(pct, int | float):
        return False
    changed = float(pct) != live.speed_pct
    live.speed_pct = float(pct)
    return changed


class TwinState:
    """The live record of every registered machine."""

    def __init__(
        self, machines: Iterable[Machine] = (), time_scale: float = 1.0, specs_of: SpecsOf | None = None
    ) -> None:
        self.machines: dict[str, LiveMachine] = {}
        self.specs_of: SpecsOf = specs_of if specs_of is not None else ProfileRegistry.bundled().sensors
        # Readings of a simulator running ``time_scale`` times faster than the clock change that much faster per
        # wall second; rates are compared with the catalogue's physical ``max_rate`` in the machines' own time.
        self.time_scale = time_scale
        self.register(machines)

    def register(self, machines: Iterable[Machine]) -> None:
        """Add machines (status offline until they report); known machines keep their state, and take the
        machine's profile and sensors as they are now (a changed profile or band override applies from now on)."""
        for machine in machines:
            live = self.machines.get(machine.id)
            specs = self.specs_of(machine)
            activity = next((spec for spec in specs.values() if spec.activity), None)
            if live is None:
                self.machines[machine.id] = LiveMachine(machine.id, machine.profile, specs, activity)
            else:
                live.profile, live.specs, live.activity = machine.profile, specs, activity
                live.values = {k: v for k, v in live.values.items() if k in specs}

    def remove(self, machine_id: str) -> None:
        """Forget a machine (it was deleted)."""
        self.machines.pop(machine_id, None)

    def states(self, machine_ids: Iterable[str] | None = None) -> list[MachineState]:
        """Snapshots of the given machines (all when ``None``), in id order; unknown ids are skipped."""
        ids = sorted(self.machines) if machine_ids is None else sorted(set(machine_ids) & self.machines.keys())
        return [self.machines[i].to_state() for i in ids]

    def apply(self, batch: TelemetryBatch, now: datetime, now_mono: float) -> list[MachineUpdate]:
        """Fold a batch into the live state; return one update per machine the batch touched."""
        updates: dict[str, MachineUpdate] = {}

        def update_of(live: LiveMachine) -> MachineUpdate:
            upd = updates.get(live.machine_id)
            if upd is None:
                upd = updates[live.machine_id] = MachineUpdate(live.machine_id, live.profile, live.status)
            return upd

        for event in sorted(batch.events, key=lambda e: e.ts):
            live = self.machines.get(event.machine_id)
            if live is None:
                continue
            upd = update_of(live)
            upd.events.append(event)
            if event.kind is EventKind.COMMAND and take_setpoint(live, event):
                upd.setpoint_changed = True
            if event.status is not None and event.kind in STATUS_EVENT_KINDS:
                ts_ms = int(event.ts.timestamp() * 1000)
                if ts_ms >= live.explicit_ts_ms:
                    live.explicit_status, live.explicit_ts_ms = event.status, ts_ms
                    if event.status is MachineStatus.FAILED:
                        mode = event.data.get("mode")
                        live.failure_mode = str(mode) if isinstance(mode, str) and mode else None

        for reading in sorted(batch.readings, key=lambda r: r.ts):
            live = self.machines.get(reading.machine_id)
            if live is None:
                continue
            upd = update_of(live)
            ts_ms = int(reading.ts.timestamp() * 1000)
            for key, value in reading.values.items():
                prev_ts = live.value_ts_ms.get(key)
                if prev_ts is not None and ts_ms < prev_ts:
                    continue  # older than what we show: history, not news
                obs = upd.observations.get(key)
                if obs is None:
                    obs = upd.observations[key] = SensorObservation(value, value, value)
                else:
                    obs.add(value)
                spec = live.specs.get(key)
                if spec is not None and spec.max_rate is not None:
                    ref = live.rate_ref.get(key)
                    if ref is None:
                        live.rate_ref[key] = (value, ts_ms)
                    elif ts_ms - ref[1] >= RATE_MIN_SPAN_MS:
                        span_s = (ts_ms - ref[1]) / 1000.0 * self.time_scale
                        obs.rate = max(obs.rate, abs(value - ref[0]) / span_s)
                        live.rate_ref[key] = (value, ts_ms)
                live.values[key] = value
                live.value_ts_ms[key] = ts_ms
                upd.values[key] = value
            if live.values_ts_ms is None or ts_ms > live.values_ts_ms:
                live.values_ts_ms = ts_ms
            upd.ts_ms = live.values_ts_ms

        for machine_id, upd in updates.items():
            live = self.machines[machine_id]
            live.last_seen, live.last_seen_mono = now, now_mono
            new_status = self._status_of(live)
            upd.status_changed = new_status is not live.status
            live.status = upd.status = new_status
        return list(updates.values())

    @staticmethod
    def _status_of(live: LiveMachine) -> MachineStatus:
        explicit = live.explicit_status
        if explicit in STICKY_STATUSES:
            return explicit
        spec = live.activity
        activity = live.values.get(spec.key) if spec is not None else None
        if spec is None or activity is None:
            if explicit is not None:
                return explicit
            return MachineStatus.RUNNING if live.status is MachineStatus.OFFLINE else live.status
        moving = activity >= IDLE_FRACTION * spec.normal_low
        if moving:
            if explicit is MachineStatus.STOPPED:
                live.explicit_status = None  # it moves again: the stop is over
            return MachineStatus.RUNNING
        if explicit is MachineStatus.STOPPED:
            return MachineStatus.STOPPED
        return MachineStatus.IDLE

    def silent_since(self, now_mono: float, offline_after_s: float) -> list[LiveMachine]:
        """Machines that reported once but have been silent for ``offline_after_s``; marks them offline."""
        gone: list[LiveMachine] = []
        for live in self.machines.values():
            if (
                live.status is not MachineStatus.OFFLINE
                and live.last_seen_mono is not None
                and now_mono - live.last_seen_mono >= offline_after_s
            ):
                live.status = MachineStatus.OFFLINE
                gone.append(live)
        return gone
