"""The simulator's pure core: a seeded engine that steps every machine of a layout at once.

``Engine.step(dt, n)`` advances the whole factory by ``n`` samples of ``dt`` seconds and returns them as arrays.
Internally it works in blocks: within a block every machine's status and setpoint are constant, so each kind's
physics is computed for all its machines and all samples of the block with whole-array numpy operations (lags with
``lfilter``, wear with ``cumsum``). The block is cut at the first sample where any machine fails or needs a service;
the state is kept from that sample, the status changes, and the next block starts there. Timed events (end of a
repair or maintenance, preventive maintenance due) end a block too. Same seed, same layout, same calls: same output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from factorytwin.domain import CATALOGUE, FactoryLayout, FailureMode, MachineKind, all_sensor_keys, kind_of
from factorytwin.sim.jobs import KindGroup, draw_jobs, jobs_in_block
from factorytwin.sim.physics import MODELS, Block, KindResult
from factorytwin.sim.production import Production, ShiftPlan
from factorytwin.sim.state import (
    FAILED,
    IDLE,
    MAINTENANCE,
    RUNNING,
    STATUSES,
    STOPPED,
    Columns,
    Frame,
    Hall,
    SimEvent,
    utc_start,
)

F64 = NDArray[np.float64]
PM_HOURS = 4.0  # a preventive maintenance takes half a shift
MAX_BLOCK_S = 3600.0
# Measurement noise is read from a pool of standard normals drawn once, at a random offset per block: drawing
# fresh normals for every sample was the largest cost of a block, and white noise needs no more than this.
NOISE_POOL = 1 << 21
DEMO_FAULT_KINDS = (
    MachineKind.CNC_MILL,
    MachineKind.HYDRAULIC_PRESS,
    MachineKind.PUMP,
    MachineKind.AIR_COMPRESSOR,
    MachineKind.ROBOT_ARM,
    MachineKind.CONVEYOR,
)


@dataclass(slots=True)
class _Candidate:
    """A group's first trigger in a block: the row, and per machine the failure mode or service there."""

    row: int
    result: KindResult
    fail_row: NDArray[np.intp]  # (m,) first row with a failure or service (n when none)
    mode_at: NDArray[np.intp]  # (m,) index into model.modes of the failure at that row, -1 for a service


class Engine:
    """A deterministic, seeded, vectorised simulator of every machine of a factory layout."""

    def __init__(
        self,
        layout: FactoryLayout,
        seed: int = 0,
        start: datetime | None = None,
        demo_faults: bool = False,
        max_block_s: float = MAX_BLOCK_S,
        noise: bool = True,
        production: bool = True,
        shifts: ShiftPlan | None = None,
    ) -> None:
        layout = layout.simulated()
        self.layout = layout
        self.seed = seed
        self.start = utc_start(start)
        self.rng = np.random.default_rng(seed)
        self.max_block_s = max_block_s
        self.noise = noise  # False: the true values, without measurement noise (for tests of the physics)
        self.machine_ids = [m.id for m in layout.machines]
        self.kinds = [kind_of(m) for m in layout.machines]
        self.index = {mid: i for i, mid in enumerate(self.machine_ids)}
        self.product_types = [str(m.metadata.get("product_type") or "") for m in layout.machines]
        self.keys = all_sensor_keys()
        n = len(self.machine_ids)
        self.t = 0.0
        self.status = np.full(n, RUNNING, dtype=np.int8)
        self.speed_pct = np.full(n, 100.0)
        self.wanted_run = np.ones(n, dtype=bool)  # false after a stop command, until a start command
        self.until = np.full(n, np.inf)  # end of the repair or maintenance in progress
        self.repairing: list[FailureMode | None] = [None] * n
        self.hall = Hall(self.rng, n, self.start)
        self.groups: list[KindGroup] = []
        self.next_pm = np.full(n, np.inf)
        self.pending: list[SimEvent] = []
        self.noise_pool = self.rng.standard_normal(NOISE_POOL)
        self._build_groups(demo_faults)
        self.columns = Columns(
            machine=np.concatenate([np.repeat(g.idx, len(g.keys)) for g in self.groups]),
            key=np.concatenate([np.tile(g.cols, len(g.idx)) for g in self.groups]),
            keys=self.keys,
            machines=n,
        )
        self.n_columns = int(self.columns.machine.shape[0])
        # Parts and scrap, reported hourly (sim.production); planned breaks only when a shift plan is given.
        self.epoch_s = self.start.timestamp()
        self.production = (
            Production(self.machine_ids, self.kinds, self.columns, self.epoch_s, seed) if production else None
        )
        self.shifts = shifts

    # ----------------------------------------------------------------------------------------------- set-up
    def _build_groups(self, demo_faults: bool) -> None:
        col = {k: i for i, k in enumerate(self.keys)}
        metadata = [dict(m.metadata) for m in self.layout.machines]
        wear = np.array([self._initial_wear(md) for md in metadata])
        explicit = [i for i, md in enumerate(metadata) if md.get("demo_fault") is True]
        offset = 0
        for kind in MachineKind:
            idx = np.array([i for i, k in enumerate(self.kinds) if k is kind], dtype=np.intp)
            if idx.size == 0:
                continue
            model, m = MODELS[kind], idx.size
            specs = CATALOGUE[kind]
            consts = model.init_consts(self.rng, idx.size, [metadata[i] for i in idx])
            state = model.init_state(self.rng, consts, wear[idx])
            group = KindGroup(
                model=model,
                idx=idx,
                cols=np.array([col[s.key] for s in specs], dtype=np.intp),
                span=slice(offset, offset + m * len(specs)),
                keys=tuple(s.key for s in specs),
                noise_sd=np.array([model.noise.get(s.key, 0.0) for s in specs]),
                low=np.array([s.low for s in specs]),
                high=np.array([s.high for s in specs]),
                consts=consts,
                state=state,
                job={k: v[:, 0] for k, v in draw_jobs(self.rng, model, consts, m, 1).items()},
                job_start=np.zeros(m),
                job_end=np.zeros(m),
            )
            group.job_end[:] = group.job["dur"] * self.rng.uniform(0.0, 1.0, m)
            self.next_pm[idx] = model.pm_interval_days * 86400.0 * self.rng.uniform(0.15, 1.0, m)
            chosen = [j for j, i in enumerate(idx) if i in explicit] if explicit else ([0] if demo_faults else [])
            if demo_faults and not explicit and kind not in DEMO_FAULT_KINDS:
                chosen = []
            for j in chosen:
                model.demo_fault(state, consts, j)
            self.groups.append(group)
            offset += m * len(specs)

    def _initial_wear(self, metadata: dict[str, object]) -> float:
        """Layout metadata ``initial_wear`` (0-1, the fraction of life used), else a random start of 0-0.6."""
        drawn = float(self.rng.uniform(0.0, 0.6))
        value = metadata.get("initial_wear")
        if isinstance(value, int | float) and 0.0 <= float(value) <= 1.0:
            return float(value)
        return drawn

    # ------------------------------------------------------------------------------------------------ stepping
    def step(self, dt: float = 1.0, n: int = 1) -> Frame:
        """Advance every machine by ``n`` samples of ``dt`` seconds; return the samples and the events."""
        if not (dt > 0 and math.isfinite(dt)):
            raise ValueError("dt must be a positive number of seconds")
        if n < 1:
            raise ValueError("n must be at least 1")
        ts, values, status = [], [], []
        done = 0
        while done < n:
            t, v, s = self._block(dt, n - done)
            ts.append(t)
            values.append(v)
            status.append(s)
            done += t.shape[0]
        events, self.pending = self.pending, []
        if len(ts) == 1:
            return Frame(t=ts[0], values=values[0], status=status[0], events=events, columns=self.columns)
        return Frame(
            t=np.concatenate(ts),
            values=np.concatenate(values),
            status=np.concatenate(status),
            events=events,
            columns=self.columns,
        )

    def _noise(self, shape: tuple[int, ...]) -> F64:
        size = math.prod(shape)
        if size > NOISE_POOL // 2:
            return self.rng.standard_normal(shape)
        start = int(self.rng.integers(0, NOISE_POOL - size))
        return self.noise_pool[start : start + size].reshape(shape)

    def _steps_to_next_timer(self, dt: float) -> int:
        """Samples until the next repair or maintenance ends, or a preventive maintenance is due."""
        due = np.where(self.status < FAILED, self.next_pm, np.inf)
        nxt = min(float(self.until.min()), float(due.min()))
        if self.shifts is not None:
            nxt = min(nxt, self.t + self.shifts.next_change_s(self.epoch_s + self.t))
        if not math.isfinite(nxt):
            return 1 << 30
        return max(1, math.ceil((nxt - self.t) / dt - 1e-9))

    def _block(self, dt: float, want: int) -> tuple[F64, F64, NDArray[np.int8]]:
        n = max(1, min(want, int(self.max_block_s // dt) or 1, self._steps_to_next_timer(dt)))
        t = self.t + dt * np.arange(1, n + 1, dtype=np.float64)
        candidates: list[_Candidate] = []
        tables = []
        first = n
        for g, (block, jobs, idx, starts) in zip(self.groups, self.block_inputs(t, dt), strict=True):
            tables.append((jobs, idx, starts))
            result = g.model.simulate(block, g.state, g.consts)
            cand = self._first_trigger(g, result, n)
            candidates.append(cand)
            first = min(first, cand.row)
        k = min(first, n - 1)  # the last row kept
        values = np.empty((k + 1, self.n_columns))
        for g, cand, (jobs, idx, starts) in zip(self.groups, candidates, tables, strict=True):
            self._commit(g, cand.result, jobs, idx[k], starts, k)
            shape = (k + 1, len(g.idx))
            true = np.stack([np.broadcast_to(cand.result.values[key][: k + 1], shape) for key in g.keys], axis=-1)
            if self.noise:  # a still machine reads exactly zero speed, torque, current: no noise on a true zero
                true = true + self._noise(true.shape) * g.noise_sd * (true != 0.0)
            values[:, g.span] = np.clip(true, g.low, g.high).reshape(k + 1, -1)
        status = np.broadcast_to(self.status, (k + 1, len(self.machine_ids))).copy()
        if self.production is not None:
            self.pending += self.production.step(t[: k + 1], dt, self.status, self.speed_pct, values)
        self.t = float(t[k])
        for g, cand in zip(self.groups, candidates, strict=True):
            for j in np.flatnonzero(cand.fail_row == k).tolist():
                mode_i = int(cand.mode_at[j])
                if mode_i < 0:
                    self._service(g, j)
                else:
                    self._fail(g, j, g.model.modes[mode_i])
        self._timers()
        return t[: k + 1], values, status

    def block_inputs(self, t: F64, dt: float) -> list[tuple[Block, dict[str, F64], NDArray[np.intp], F64]]:
        """Per group: the block its model steps over samples ``t``, the job tables, the job index per sample and
        the job start times. Draws the upcoming jobs, so it advances the random stream."""
        air, hour = self.hall.air(t)
        running = self.status == RUNNING
        speed = np.where(running, self.speed_pct / 100.0, 0.0)
        out = []
        for g in self.groups:
            jobs, idx, job_age, starts = jobs_in_block(self.rng, g, self.t, t, dt)
            block = Block(
                t=t,
                dt=dt,
                hour=hour,
                air=air[:, g.idx],
                running=running[g.idx],
                speed=speed[g.idx],
                job={k: v[np.arange(len(g.idx))[None, :], idx] for k, v in jobs.items()},
                job_age=job_age,
                rng=self.rng,
            )
            out.append((block, jobs, idx, starts))
        return out

    def _first_trigger(self, g: KindGroup, result: KindResult, n: int) -> _Candidate:
        """The first row where a machine of the group fails (the first mode in priority order) or needs service."""
        m = len(g.idx)
        modes = g.model.modes
        cond = np.stack([result.conditions[mode] for mode in modes])  # (modes, n, m)
        failing = cond.any(axis=0)
        service = result.service if result.service is not None else np.zeros((n, m), dtype=bool)
        trig = failing | service
        has = trig.any(axis=0)
        fail_row = np.where(has, trig.argmax(axis=0), n)
        rows = np.minimum(fail_row, n - 1)
        at = cond[:, rows, np.arange(m)]  # (modes, m)
        mode_at = np.where(at.any(axis=0), at.argmax(axis=0), -1)
        return _Candidate(row=int(fail_row.min()), result=result, fail_row=fail_row, mode_at=mode_at)

    def _commit(
        self, g: KindGroup, result: KindResult, jobs: dict[str, F64], idx_k: NDArray[np.intp], starts: F64, k: int
    ) -> None:
        """Keep the state and the job in progress at row ``k``."""
        for key, traj in result.state.items():
            g.state[key] = np.array(traj[k], dtype=np.float64)
        rows = np.arange(len(g.idx))
        g.job = {key: v[rows, idx_k] for key, v in jobs.items()}
        g.job_start = starts[rows, idx_k]
        g.job_end = g.job_start + g.job["dur"]

    # ------------------------------------------------------------------------------------------- transitions
    def emit(self, i: int, event: str, mode: str | None = None, message: str = "", **data: object) -> None:
        self.pending.append(
            SimEvent(
                t=self.t,
                machine_id=self.machine_ids[i],
                kind=self.kinds[i].value,
                event=event,
                status=STATUSES[int(self.status[i])],
                mode=mode,
                message=message,
                data=dict(data),
            )
        )

    def group_of(self, i: int) -> tuple[KindGroup, int]:
        for g in self.groups:
            hit = np.flatnonzero(g.idx == i)
            if hit.size:
                return g, int(hit[0])
        raise KeyError(i)  # pragma: no cover - every machine is in a group

    def abort_job(self, g: KindGroup, j: int) -> None:
        """The operation in progress is abandoned; the next one starts now."""
        g.job_end[j] = self.t
        g.job["rnf_at"][j] = np.inf

    def _fail(self, g: KindGroup, j: int, mode: FailureMode) -> None:
        i = int(g.idx[j])
        hours = g.model.repair_hours[mode] * float(self.rng.lognormal(0.0, 0.3))
        self.status[i] = FAILED
        self.until[i] = self.t + hours * 3600.0
        self.repairing[i] = mode
        self.abort_job(g, j)
        self.emit(i, "failure", mode.value, f"{mode.value} failure", repair_hours=round(hours, 2))

    def _renew(self, g: KindGroup, j: int, keys: tuple[str, ...]) -> None:
        """Replace the worn parts ``keys`` of machine ``j`` of group ``g``."""
        if not keys:
            return
        for key in keys:
            g.state[key][j] = 0.0
        g.consts["accel"][j] = 1.0
        g.consts["bearing_accel"][j] = 1.0
        if g.model.threshold_part in keys:
            g.model.redraw(self.rng, g.state, g.consts, np.array([j], dtype=np.intp))

    def _service(self, g: KindGroup, j: int) -> None:
        """The operator's quick service (a tool change) before the part fails."""
        i = int(g.idx[j])
        self._renew(g, j, g.model.service_resets)
        self.status[i] = MAINTENANCE
        self.until[i] = self.t + g.model.service_minutes * 60.0
        self.abort_job(g, j)
        self.emit(i, "maintenance", None, "tool change", reason="service")

    def start_maintenance(self, i: int, hours: float, reason: str) -> None:
        """Maintenance of machine ``i``, down for ``hours``: a commanded one renews every wear part, a preventive
        one renews filters and tools and replaces bearings, seals, belts and gearboxes found worn."""
        g, j = self.group_of(i)
        repaired = self.repairing[i]
        if repaired is not None:
            self._renew(g, j, g.model.repair_resets[repaired])
            self.repairing[i] = None
        keys = g.model.wear_keys
        if reason == "preventive":
            inspect = g.model.inspect_keys
            keys = tuple(k for k in keys if k not in inspect or g.state[k][j] >= inspect[k])
        self._renew(g, j, keys)
        self.status[i] = MAINTENANCE
        self.until[i] = self.t + hours * 3600.0
        self.next_pm[i] = self.t + g.model.pm_interval_days * 86400.0
        self.abort_job(g, j)
        self.emit(i, "maintenance", None, f"{reason} maintenance", reason=reason, hours=hours)

    def inject_failure(self, machine_id: str, mode: FailureMode = FailureMode.BEARING) -> None:
        """Fault injection: machine ``machine_id`` fails now in ``mode`` (a failure event, then the mode's repair),
        whatever its wear; for demos and tests of what the twin and its operators see when a machine fails.
        ``KeyError`` for an unknown machine or a mode its kind cannot fail in (every kind has ``bearing``)."""
        g, j = self.group_of(self.index[machine_id])
        self._fail(g, j, mode)

    # -- operator commands (sim.commands validates them and words the outcome) ----------------------------------
    def set_speed(self, i: int, pct: float) -> None:
        """Run machine ``i`` at ``pct`` % of nominal speed; a running or idle machine follows at once."""
        self.speed_pct[i] = pct
        if self.status[i] in (RUNNING, IDLE):
            self._resume(i)

    def stop_machine(self, i: int) -> None:
        """Stop machine ``i`` now if it runs or idles; it stays stopped after a repair or maintenance too."""
        self.wanted_run[i] = False
        if self.status[i] in (RUNNING, IDLE):
            self.status[i] = STOPPED

    def start_machine(self, i: int) -> None:
        """Let machine ``i`` run: at once when stopped, when the repair or maintenance ends otherwise."""
        self.wanted_run[i] = True
        if self.status[i] == STOPPED:
            self._resume(i)

    def _resume(self, i: int) -> None:
        """Machine ``i`` takes the status it should have now; starting or ceasing to move begins a new job."""
        status = self.resume_status(i)
        if status != self.status[i]:
            self.status[i] = status
            self.abort_job(*self.group_of(i))

    def resume_status(self, i: int) -> int:
        """The status a machine returns to when it is free: stopped if told so, idle at speed 0, else running."""
        if not self.wanted_run[i]:
            return STOPPED
        return RUNNING if self.speed_pct[i] > 0 else IDLE

    def _timers(self) -> None:
        """End repairs and maintenances that are over; start preventive maintenances that are due."""
        for i in np.flatnonzero(self.until <= self.t + 1e-9).tolist():
            g, j = self.group_of(i)
            mode = self.repairing[i]
            if mode is not None:
                self._renew(g, j, g.model.repair_resets[mode])
            self.status[i] = self.resume_status(i)
            self.until[i] = np.inf
            self.repairing[i] = None
            self.abort_job(g, j)
            if mode is not None:
                self.emit(i, "repair", mode.value, f"repaired after {mode.value} failure")
            else:
                self.emit(i, "status", None, "maintenance done")
        for i in np.flatnonzero((self.next_pm <= self.t + 1e-9) & (self.status < FAILED)).tolist():
            self.start_maintenance(i, PM_HOURS, "preventive")
        if self.shifts is not None:
            resume = [self.resume_status(i) for i in range(len(self.machine_ids))]
            self.pending += self.shifts.apply(
                self.t, self.epoch_s + self.t, self.status, resume, self.machine_ids, self.kinds
            )

    def announce(self) -> None:
        """Emit every machine's current status as a status event ("simulation start"), so that a receiver knows
        each machine's status from the start (the KPIs count time of unknown status as no production time)."""
        for i in range(len(self.machine_ids)):
            self.emit(i, "status", None, "simulation start")
