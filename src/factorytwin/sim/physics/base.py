"""What every machine kind's physics shares: the block it is stepped over, its result, and common mechanisms.

A kind model steps all machines of its kind over a block of ``n`` samples at once: every array is ``(n, m)``
(samples x machines of the kind). Within a block the machines' statuses and setpoints are constant: the engine
cuts a block short at the first failure, repair or command, so a model never has to branch on time.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from factorytwin.domain import FailureMode, MachineKind

F64 = NDArray[np.float64]
BOOL = NDArray[np.bool_]

RPM_TO_RAD_S = 2.0 * math.pi / 60.0
# Line-to-line voltage, power factor and efficiency of the plant's three-phase motors: I = P / (sqrt(3) V pf eta).
MOTOR_W_PER_A = math.sqrt(3.0) * 400.0 * 0.85 * 0.9
RANDOM_FAILURE_PER_OPERATION = 0.001  # AI4I 2020: 0.1 % of operations fail at random


@dataclass(frozen=True, slots=True)
class Block:
    """The inputs of one block of ``n`` samples for the ``m`` machines of one kind."""

    t: F64  # (n,) simulation seconds of each sample
    dt: float  # seconds between samples
    hour: F64  # (n,) hour of the day, 0-24, for shift patterns
    air: F64  # (n, m) air temperature at each machine, K
    running: BOOL  # (m,) status is running (moving, can fail)
    speed: F64  # (m,) speed setpoint as a fraction of nominal, 0-1.2; 0 when not running
    job: Mapping[str, F64]  # name -> (n, m): parameters of the job in progress at each sample
    job_age: F64  # (n, m) seconds since the job in progress started
    rng: np.random.Generator

    @property
    def n(self) -> int:
        """Number of samples in the block."""
        return int(self.t.shape[0])

    @property
    def moving(self) -> F64:
        """(1, m) 1.0 where the machine runs at a non-zero speed, else 0.0: multiplies loads and wear rates."""
        return (self.running & (self.speed > 0)).astype(np.float64)[None, :]


@dataclass(slots=True)
class KindResult:
    """What a kind model produced for a block: true sensor values, state trajectories and failure triggers."""

    values: dict[str, F64]  # sensor key -> (n, m) true value (the engine adds measurement noise)
    state: dict[str, F64]  # state variable -> (n, m) trajectory; the engine keeps the row where the block ends
    conditions: dict[FailureMode, BOOL]  # mode -> (n, m) where the mechanism's condition holds
    service: BOOL | None = None  # (n, m) where the operator's policy calls for a quick service (tool change)
    extra: dict[str, F64] = field(default_factory=dict)


def lag(target: F64, y0: F64, block: Block, tau_s: float) -> F64:
    """First-order thermal lag: ``y`` follows ``target`` with time constant ``tau_s``, starting from ``y0``.

    Exact for a target held constant over each step; a C loop (``lfilter``) over the time axis.
    """
    alpha = 1.0 - math.exp(-block.dt / tau_s)
    zi = ((1.0 - alpha) * y0)[None, :]
    target = np.broadcast_to(target, (block.n, y0.shape[0]))
    out, _ = lfilter([alpha], [1.0, -(1.0 - alpha)], target, axis=0, zi=zi)
    return np.asarray(out, dtype=np.float64)


def exp_growth(x0: F64, rate: F64, block: Block, floor: float) -> F64:
    """Damage that grows in proportion to itself: ``dx/dt = rate (x + floor)``, integrated over the block."""
    rate = np.broadcast_to(rate, (block.n, x0.shape[0]))
    return (x0 + floor)[None, :] * np.exp(np.cumsum(rate, axis=0) * block.dt) - floor


def accumulate(x0: F64, rate: F64, block: Block) -> F64:
    """Wear that accumulates at ``rate`` per second over the block (never decreases between maintenances)."""
    rate = np.broadcast_to(rate, (block.n, x0.shape[0]))
    return x0[None, :] + np.cumsum(rate, axis=0) * block.dt


def shift_factor(hour: F64) -> F64:
    """(n, 1) demand factor of a three-shift plant: full by day, lower at night (22:00-06:00)."""
    night = (hour >= 22.0) | (hour < 6.0)
    return np.where(night, 0.8, 1.0)[:, None]


def motor_current(idle_a: float, shaft_w: F64, moving: F64) -> F64:
    """Three-phase motor current from shaft power: no-load current plus the load share, 0 when stopped."""
    return (idle_a + shaft_w / MOTOR_W_PER_A) * moving


def vibration(base_mm_s: float, speed: F64, moving: F64, bearing: F64, extra: F64 | float = 0.0) -> F64:
    """Velocity RMS: running-speed component, plus a bearing-defect term that grows steeply with damage."""
    running_part = base_mm_s * (0.4 + 0.6 * speed[None, :]) * moving
    return 0.15 + running_part + 7.0 * np.clip(bearing, 0.0, None) ** 2.5 * (0.3 + 0.7 * moving) + extra


class KindModel(ABC):
    """The physics of one machine kind, stepped over a block for all machines of that kind at once."""

    kind: MachineKind
    modes: tuple[FailureMode, ...]  # failure modes it can show, in priority order when two trigger together
    wear_keys: tuple[str, ...]  # state variables that preventive maintenance resets to zero
    repair_resets: Mapping[FailureMode, tuple[str, ...]]  # what the repair of each mode renews
    repair_hours: Mapping[FailureMode, float]  # median repair time per mode
    # Parts a preventive maintenance only replaces when inspection finds them past this level (condition-based);
    # the others (filters, coolers, strainers, tools) it always renews.
    inspect_keys: Mapping[str, float] = MappingProxyType({"bearing": 0.6})
    threshold_part: str | None = None  # the part whose renewal draws a new random failure threshold
    service_resets: tuple[str, ...] = ()
    service_minutes: float = 0.0
    pm_interval_days: float = 60.0
    job_minutes: tuple[float, float] = (10.0, 40.0)  # range of an operation's duration
    noise: Mapping[str, float]  # measurement noise standard deviation per sensor, in the sensor's unit
    bearing_life_days: float = 150.0  # median life of a bearing from new to failure at full load

    def init_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Per-machine constants drawn at installation (degradation rates, product type, ...)."""
        life_s = self.bearing_life_days * 86400.0 * rng.lognormal(0.0, 0.45, m)
        # From new (0) to failure (1) under dx/dt = k (x + 0.05) at an average load factor of 0.8.
        # ``accel`` multiplies the kind's own wear rates, ``bearing_accel`` the bearing's: >1 only for a demo
        # fault, until the next renewal.
        consts = {
            "k_bearing": np.log(1.05 / 0.05) / (life_s * 0.8),
            "accel": np.ones(m),
            "bearing_accel": np.ones(m),
        }
        consts.update(self.kind_consts(rng, m, metadata))
        return consts

    def kind_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Kind-specific per-machine constants; none by default."""
        return {}

    @abstractmethod
    def init_state(self, rng: np.random.Generator, consts: dict[str, F64], wear: F64) -> dict[str, F64]:
        """State at start: ``wear`` (m,) is the fraction of life already used by each machine (0 new, 1 worn)."""

    @abstractmethod
    def draw_jobs(self, rng: np.random.Generator, consts: dict[str, F64], shape: tuple[int, int]) -> dict[str, F64]:
        """Parameters of ``shape`` = (m, k) upcoming operations (without their duration)."""

    @abstractmethod
    def physics(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """True sensor values, state trajectories and failure conditions over one block."""

    def redraw(
        self, rng: np.random.Generator, state: dict[str, F64], consts: dict[str, F64], idx: NDArray[np.intp]
    ) -> None:
        """After a renewal of machines ``idx``: draw new random thresholds (a new tool's life, ...); none here."""
        return None

    def demo_fault(self, state: dict[str, F64], consts: dict[str, F64], i: int) -> None:
        """Put machine ``i`` close to a failure, degrading fast, so that a demo shows alarms within minutes."""
        state["bearing"][i] = 0.62
        consts["bearing_accel"][i] = 600.0

    def simulate(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """``physics`` plus the mechanisms every kind shares: bearing failure and the random failure."""
        result = self.physics(block, state, consts)
        running = block.running[None, :] & (block.speed[None, :] > 0)
        result.conditions[FailureMode.BEARING] = running & (result.state["bearing"] >= 1.0)
        result.conditions[FailureMode.RANDOM] = running & (block.job_age >= block.job["rnf_at"])
        return result

    def bearing(self, block: Block, state: dict[str, F64], consts: dict[str, F64], load: F64) -> F64:
        """Bearing damage trajectory: grows with load while moving, exponentially as spalls spread."""
        rate = (
            (consts["k_bearing"] * consts["bearing_accel"])[None, :]
            * (0.4 + 0.6 * np.clip(load, 0.0, 1.5))
            * block.moving
        )
        return exp_growth(state["bearing"], rate, block, 0.05)
