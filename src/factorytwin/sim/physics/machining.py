"""CNC mills and lathes: the AI4I 2020 failure mechanisms on a cutting process with physics behind each sensor.

An operation (job) has a cutting power and a nominal spindle speed; the CNC override (``set_speed``) scales the
spindle speed and the feed together, so the torque (chip load per revolution) stays and the power scales with the
speed. A dull tool cuts with more torque. Process heat follows the cutting power with a thermal lag; the
process-to-air temperature difference shrinks when the hall warms faster than the process in the afternoon.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from factorytwin.domain import FailureMode, MachineKind
from factorytwin.sim.physics.base import (
    F64,
    RPM_TO_RAD_S,
    Block,
    KindModel,
    KindResult,
    accumulate,
    lag,
    motor_current,
    vibration,
)

PRODUCT_TYPES = ("L", "M", "H")
# AI4I 2020: the quality variants H/M/L add 5/3/2 minutes of tool wear per operation; here per minute of cutting
# at the reference torque, so that a tool lasts from about 7 (H) to 17 (L) hours of cutting.
WEAR_MIN_PER_CUT_MIN = {"L": 0.2, "M": 0.3, "H": 0.5}
OSF_LIMIT_MIN_NM = {"L": 11_000.0, "M": 12_000.0, "H": 13_000.0}  # AI4I overstrain: tool wear x torque
HDF_DELTA_K = 8.6  # AI4I heat dissipation: process - air below this, with the speed below the HDF speed
WARM_UP_S = 1800.0  # the heat-dissipation check starts once the process has been running this long
THERMAL_TAU_S = 600.0


@dataclass(frozen=True, slots=True)
class CuttingSpec:
    """The numbers that distinguish a mill from a lathe."""

    speed_rpm: tuple[float, float]  # nominal spindle speed of an operation: mean, standard deviation
    power_w: tuple[float, float]  # cutting power of an operation at nominal speed: mean, standard deviation
    hdf_rpm: float  # heat dissipation fails below this speed (AI4I: 1380 rpm for the mill)
    pwf_w: tuple[float, float]  # power failure outside this band (AI4I: 3500-9000 W for the mill)
    osf_scale: float  # overstrain limits relative to AI4I's
    ref_torque_nm: float  # torque at which tool wear advances at the nominal rate
    vib_base: float


MILL = CuttingSpec(
    speed_rpm=(1620.0, 120.0),
    power_w=(6300.0, 620.0),
    hdf_rpm=1380.0,
    pwf_w=(3500.0, 9000.0),
    osf_scale=1.0,
    ref_torque_nm=38.0,
    vib_base=1.6,
)
LATHE = CuttingSpec(
    speed_rpm=(1500.0, 130.0),
    power_w=(7000.0, 750.0),
    hdf_rpm=1280.0,
    pwf_w=(3000.0, 10500.0),
    osf_scale=1.25,
    ref_torque_nm=45.0,
    vib_base=1.8,
)


class CuttingModel(KindModel):
    """A machine tool (mill or lathe) with the AI4I 2020 failure set: TWF, HDF, PWF, OSF, random, plus bearing."""

    modes = (
        FailureMode.TOOL_WEAR,
        FailureMode.OVERSTRAIN,
        FailureMode.POWER,
        FailureMode.HEAT_DISSIPATION,
        FailureMode.BEARING,
        FailureMode.RANDOM,
    )
    wear_keys = ("tool_wear", "bearing")
    repair_resets = MappingProxyType(
        {
            FailureMode.TOOL_WEAR: ("tool_wear",),
            FailureMode.OVERSTRAIN: ("tool_wear",),
            FailureMode.POWER: (),
            FailureMode.HEAT_DISSIPATION: (),
            FailureMode.BEARING: ("bearing",),
            FailureMode.RANDOM: (),
        }
    )
    repair_hours = MappingProxyType(
        {
            FailureMode.TOOL_WEAR: 0.75,
            FailureMode.OVERSTRAIN: 1.5,
            FailureMode.POWER: 2.0,
            FailureMode.HEAT_DISSIPATION: 1.0,
            FailureMode.BEARING: 12.0,
            FailureMode.RANDOM: 3.0,
        }
    )
    threshold_part = "tool_wear"
    service_resets = ("tool_wear",)
    service_minutes = 10.0
    pm_interval_days = 60.0
    job_minutes = (8.0, 40.0)
    bearing_life_days = 160.0
    noise = MappingProxyType(
        {
            "air_temp": 0.1,
            "process_temp": 0.1,
            "spindle_speed": 4.0,
            "torque": 0.6,
            "power": 0.05,
            "tool_wear": 0.0,
            "vibration": 0.12,
            "motor_current": 0.3,
        }
    )

    def __init__(self, kind: MachineKind, spec: CuttingSpec) -> None:
        self.kind = kind
        self.spec = spec

    def kind_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Product type (layout metadata ``product_type``, L when absent) sets the wear rate and OSF limit."""
        types = [str(md.get("product_type") or "L").upper() for md in metadata]
        types = [t if t in PRODUCT_TYPES else "L" for t in types]
        return {
            "wear_rate": np.array([WEAR_MIN_PER_CUT_MIN[t] for t in types]) / 60.0,  # min of wear per s of cutting
            "osf_limit": np.array([OSF_LIMIT_MIN_NM[t] for t in types]) * self.spec.osf_scale,
        }

    def init_state(self, rng: np.random.Generator, consts: dict[str, F64], wear: F64) -> dict[str, F64]:
        """Tools part-worn, bearings part-used, process warm."""
        m = int(wear.shape[0])
        state = {
            "tool_wear": 180.0 * wear,
            "bearing": 0.5 * wear,
            "delta_t": np.full(m, 10.0),
            "warm": np.full(m, WARM_UP_S),
            "twf_at": np.zeros(m),
            "change_at": np.zeros(m),
        }
        self.redraw(rng, state, consts, np.arange(m, dtype=np.intp))
        return state

    def redraw(
        self, rng: np.random.Generator, state: dict[str, F64], consts: dict[str, F64], idx: NDArray[np.intp]
    ) -> None:
        """A new tool: it breaks at a random wear of 200-240 min (AI4I); the operator plans to change it earlier."""
        k = len(idx)
        state["twf_at"][idx] = rng.uniform(200.0, 240.0, k)
        state["change_at"][idx] = rng.uniform(140.0, 225.0, k)

    def draw_jobs(self, rng: np.random.Generator, consts: dict[str, F64], shape: tuple[int, int]) -> dict[str, F64]:
        """An operation: nominal spindle speed, cutting power and the process's own temperature rise."""
        sp, pw = self.spec.speed_rpm, self.spec.power_w
        return {
            "speed_rpm": np.clip(rng.normal(sp[0], sp[1], shape), 0.6 * sp[0], 1.7 * sp[0]),
            "power_w": np.clip(rng.normal(pw[0], pw[1], shape), 0.45 * pw[0], 1.6 * pw[0]),
            "delta_t": rng.normal(10.0, 0.8, shape),
        }

    def demo_fault(self, state: dict[str, F64], consts: dict[str, F64], i: int) -> None:
        """A tool the operator forgot to change, wearing fast: tool wear alarm soon, then a tool failure."""
        state["tool_wear"][i] = 185.0
        state["change_at"][i] = 1e9
        state["twf_at"][i] = 225.0
        consts["accel"][i] = 0.5 / consts["wear_rate"][i] / 60.0 * 4.0  # ~2 min of wear per minute of cutting

    def physics(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """Spindle speed, torque, power = torque x w, tool wear, process heat, current, vibration; AI4I triggers."""
        spec, mv, job = self.spec, block.moving, block.job
        speed_rpm = job["speed_rpm"] * block.speed[None, :] * mv
        torque_sharp = job["power_w"] / (job["speed_rpm"] * RPM_TO_RAD_S)
        wear_rate = consts["wear_rate"] * consts["accel"] * block.speed * (torque_sharp / spec.ref_torque_nm) * mv
        wear = accumulate(state["tool_wear"], wear_rate, block)
        torque = torque_sharp * (1.0 + 0.15 * wear / 240.0) * mv  # a dull tool needs more cutting force
        power_w = torque * speed_rpm * RPM_TO_RAD_S
        target = (job["delta_t"] + 1.5 * (power_w / spec.power_w[0] - 1.0)) * mv + 1.0 * (1.0 - mv)
        delta_t = lag(target, state["delta_t"], block, THERMAL_TAU_S)
        warm = np.where(mv > 0, state["warm"][None, :] + np.cumsum(np.broadcast_to(mv, wear.shape), 0) * block.dt, 0.0)
        bearing = self.bearing(block, state, consts, power_w / spec.power_w[0])
        moving = mv > 0
        conditions = {
            FailureMode.TOOL_WEAR: moving & (wear >= state["twf_at"]),
            FailureMode.OVERSTRAIN: moving & (wear * torque > consts["osf_limit"]),
            FailureMode.POWER: moving & ((power_w < spec.pwf_w[0]) | (power_w > spec.pwf_w[1])),
            FailureMode.HEAT_DISSIPATION: moving
            & (warm >= WARM_UP_S)
            & (delta_t < HDF_DELTA_K)
            & (speed_rpm < spec.hdf_rpm),
        }
        values = {
            "air_temp": block.air,
            "process_temp": block.air + delta_t,
            "spindle_speed": speed_rpm,
            "torque": torque,
            "power": power_w / 1000.0,
            "tool_wear": wear,
            "vibration": vibration(spec.vib_base, block.speed, mv, bearing),
            "motor_current": motor_current(3.0, power_w, mv),
        }
        state_traj = {
            "tool_wear": wear,
            "bearing": bearing,
            "delta_t": delta_t,
            "warm": warm,
        }
        return KindResult(
            values=values, state=state_traj, conditions=conditions, service=moving & (wear >= state["change_at"])
        )


MILL_MODEL = CuttingModel(MachineKind.CNC_MILL, MILL)
LATHE_MODEL = CuttingModel(MachineKind.LATHE, LATHE)
