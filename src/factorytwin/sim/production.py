"""Production in the simulator: parts made and scrapped by the machines that make parts, and planned shift breaks.

``Production`` follows every block the engine steps: a running machine makes parts at ``speed / cycle time``,
where the cycle time is the kind's ideal cycle time (at 100 % speed) stretched by small stops and slow cycles
that grow with wear; each part is bad with a probability that rises with wear, heat and vibration. Once an hour
(UTC) each part-making machine reports what it made in that hour as a ``production`` event (``parts_total``,
``parts_bad``, ``ideal_cycle_s``), as a real machine's counters would be read. Pumps, compressors and conveyors
make no discrete parts and report nothing (their performance is unknown, not invented).

``ShiftPlan`` (opt-in: ``Engine(shifts=ShiftPlan())``) stops running machines for planned breaks; the stop and
the return are status events with ``data.planned = true``, which the KPIs leave out of planned production time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from factorytwin.domain import MachineKind, sensor_specs
from factorytwin.sim.state import IDLE, RUNNING, STATUSES, STOPPED, Columns, SimEvent

F64 = NDArray[np.float64]
REPORT_S = 3600.0  # one production report per machine per UTC hour
IDEAL_CYCLE_S: dict[MachineKind, float] = {
    MachineKind.CNC_MILL: 240.0,  # one milled part per 4 min at 100 % speed
    MachineKind.LATHE: 150.0,
    MachineKind.HYDRAULIC_PRESS: 4.0,  # 15 strokes/min, one part a stroke
    MachineKind.ROBOT_ARM: 40.0,  # one pick-and-place or weld cycle
}
"""Ideal (fastest sustainable) cycle time per part at 100 % speed, seconds."""
EFFICIENCY_NEW = 0.93  # fraction of the ideal rate a new machine reaches (small stops, slow cycles)
EFFICIENCY_WORN = 0.15  # lost at full wear
SCRAP_BASE = 0.004  # probability a part is bad on a healthy machine
SCRAP_WEAR = 0.05  # added at full wear (squared: wear hurts late)
SCRAP_HEAT_PER_K = 0.006  # added per kelvin above the top of the normal band
SCRAP_VIBRATION = 0.03  # added per mm/s above 2.8 mm/s (ISO 10816 zone A/B boundary)
VIBRATION_OK_MM_S = 2.8


@dataclass(frozen=True, slots=True)
class _Maker:
    """A part-making machine: its engine index and the frame columns that drive its rate and its scrap."""

    index: int
    ideal_s: float
    wear: tuple[int, float]  # (column, the wear at which the part counts as fully worn)
    heat: tuple[int, float]  # (column, top of its normal band, K)
    vibration: int


_WEAR_KEY = {
    MachineKind.CNC_MILL: "tool_wear",
    MachineKind.LATHE: "tool_wear",
    MachineKind.HYDRAULIC_PRESS: "seal_wear",
    MachineKind.ROBOT_ARM: "position_error",
}
_HEAT_KEY = {
    MachineKind.CNC_MILL: "process_temp",
    MachineKind.LATHE: "process_temp",
    MachineKind.HYDRAULIC_PRESS: "oil_temp",
    MachineKind.ROBOT_ARM: "joint_temp",
}


@dataclass(slots=True)
class _Hour:
    """What a machine made so far in the open report hour (expected values; integers are drawn at the report)."""

    hour: int
    parts: float = 0.0
    bad: float = 0.0


class Production:
    """Parts and scrap of the part-making machines of an engine, reported hourly as ``production`` events."""

    def __init__(
        self, machine_ids: list[str], kinds: list[MachineKind], columns: Columns, epoch_s: float, seed: int
    ) -> None:
        self.machine_ids = machine_ids
        self.kinds = kinds
        self.epoch_s = epoch_s
        self.rng = np.random.default_rng([seed, 0x50524F44])  # its own stream: the physics' stays as it was
        self.carry = np.zeros(len(machine_ids))  # fractional parts carried into the next report
        self.makers: list[_Maker] = []
        for i, kind in enumerate(kinds):
            if kind not in IDEAL_CYCLE_S:
                continue
            cols = {columns.keys[int(columns.key[c])]: int(c) for c in columns.of_machine(i)}
            specs = sensor_specs(kind)
            wear_key, heat_key = _WEAR_KEY[kind], _HEAT_KEY[kind]
            self.makers.append(
                _Maker(
                    index=i,
                    ideal_s=IDEAL_CYCLE_S[kind],
                    wear=(cols[wear_key], specs[wear_key].normal_high),
                    heat=(cols[heat_key], specs[heat_key].normal_high),
                    vibration=cols["vibration"],
                )
            )
        first = math.floor(epoch_s / REPORT_S)
        self.open: dict[int, _Hour] = {m.index: _Hour(first) for m in self.makers}

    def step(self, t: F64, dt: float, status: NDArray[np.int8], speed_pct: F64, values: F64) -> list[SimEvent]:
        """Count the parts of a block (samples ``t``, statuses constant over it, ``values`` (n, C) as in a frame)
        and return the reports of the hours that ended within it."""
        unix = self.epoch_s + t
        hours = np.floor((unix - 1e-6) / REPORT_S).astype(np.int64)  # a sample ends the dt before it
        closed_before = math.floor((unix[-1] + 1e-6) / REPORT_S)  # hours below this are over
        out: list[SimEvent] = []
        for maker in self.makers:
            i = maker.index
            wear = np.clip(values[:, maker.wear[0]] / maker.wear[1], 0.0, 1.5)
            if status[i] == RUNNING:
                rate = (
                    dt
                    * speed_pct[i]
                    / 100.0
                    / maker.ideal_s
                    * (EFFICIENCY_NEW - EFFICIENCY_WORN * np.minimum(wear, 1.0))
                )
                heat = np.clip(values[:, maker.heat[0]] - maker.heat[1], 0.0, 20.0)
                shake = np.clip(values[:, maker.vibration] - VIBRATION_OK_MM_S, 0.0, 5.0)
                p_bad = np.clip(
                    SCRAP_BASE + SCRAP_WEAR * wear**2 + SCRAP_HEAT_PER_K * heat + SCRAP_VIBRATION * shake, 0.0, 0.5
                )
            else:
                rate = np.zeros_like(t)
                p_bad = np.zeros_like(t)
            for hour in np.unique(hours).tolist():
                sel = hours == hour
                acc = self.open[i]
                if hour != acc.hour:
                    out += self._report(maker, acc, status)
                    acc = self.open[i] = _Hour(hour)
                acc.parts += float(rate[sel].sum())
                acc.bad += float((rate[sel] * p_bad[sel]).sum())
            if self.open[i].hour < closed_before:
                out += self._report(maker, self.open[i], status)
                self.open[i] = _Hour(closed_before)
        return out

    def _report(self, maker: _Maker, acc: _Hour, status: NDArray[np.int8]) -> list[SimEvent]:
        i = maker.index
        made = self.carry[i] + acc.parts
        total = math.floor(made + 1e-9)
        self.carry[i] = made - total
        share = acc.bad / acc.parts if acc.parts > 0 else 0.0
        bad = int(self.rng.binomial(total, min(max(share, 0.0), 1.0))) if total else 0
        end_t = (acc.hour + 1) * REPORT_S - self.epoch_s
        return [
            SimEvent(
                t=end_t,
                machine_id=self.machine_ids[i],
                kind=self.kinds[i].value,
                event="production",
                status=STATUSES[int(status[i])],
                message=f"{total} parts ({bad} bad)",
                data={
                    "parts_total": total,
                    "parts_bad": bad,
                    "ideal_cycle_s": maker.ideal_s,
                    "period_s": REPORT_S,
                },
            )
        ]


class ShiftPlan:
    """Planned breaks every day at the same UTC times: (start hour of day, minutes). Default: a 30-minute break in
    the middle of each of the 06/14/22 h shifts. Running or idle machines stop for a break and resume after it."""

    def __init__(self, breaks: tuple[tuple[float, float], ...] = ((10.0, 30.0), (18.0, 30.0), (2.0, 30.0))) -> None:
        self.breaks = breaks
        self.on_break: set[int] = set()  # machines this plan stopped, resumed when the break ends

    def next_change_s(self, unix_s: float) -> float:
        """Seconds from ``unix_s`` to the next start or end of a break (strictly after it)."""
        day = math.floor(unix_s / 86400.0) * 86400.0
        best = math.inf
        for start_h, minutes in self.breaks:
            for edge in (start_h * 3600.0, start_h * 3600.0 + minutes * 60.0):
                for d in (-86400.0, 0.0, 86400.0):
                    at = day + d + edge
                    if at > unix_s + 1e-6:
                        best = min(best, at - unix_s)
        return best

    def in_break(self, unix_s: float) -> bool:
        """Whether ``unix_s`` is within a break."""
        tod = unix_s % 86400.0
        for start_h, minutes in self.breaks:
            a, b = start_h * 3600.0, start_h * 3600.0 + minutes * 60.0
            if any(a - 1e-6 <= x < b - 1e-6 for x in (tod, tod + 86400.0)):
                return True
        return False

    def apply(
        self,
        t: float,
        unix_s: float,
        status: NDArray[np.int8],
        resume: list[int],
        machine_ids: list[str],
        kinds: list[MachineKind],
    ) -> list[SimEvent]:
        """Stop the running or idle machines when a break starts, give back the ones it stopped when it ends
        (``resume``: the status each machine returns to); return the planned status events. Mutates ``status``."""
        out: list[SimEvent] = []
        if self.in_break(unix_s):
            for i in np.flatnonzero((status == RUNNING) | (status == IDLE)).tolist():
                status[i] = STOPPED
                self.on_break.add(i)
                out.append(_break_event(t, machine_ids[i], kinds[i], STOPPED, "planned break"))
        else:
            for i in sorted(self.on_break):
                if status[i] == STOPPED and resume[i] != STOPPED:
                    status[i] = resume[i]
                    out.append(_break_event(t, machine_ids[i], kinds[i], resume[i], "break over"))
            self.on_break.clear()
        return out


def _break_event(t: float, machine_id: str, kind: MachineKind, status: int, message: str) -> SimEvent:
    """A status event of a planned stop (or its end); the stop is flagged ``planned`` for the KPIs."""
    stopped = status == STOPPED
    return SimEvent(
        t=t,
        machine_id=machine_id,
        kind=kind.value,
        event="status",
        status=STATUSES[status],
        message=message,
        data={"planned": True, "reason": "break"} if stopped else {"reason": "break over"},
    )
