"""Conveyors and robot arms: the machines that move parts between the others.

- Conveyor: belt speed from the setpoint; the drive current follows the load on the belt and the friction of a
  worn belt; the motor heats with the square of the current. Failures: belt wear (the belt tears), motor
  overheating, bearing, random.
- Robot arm: cycle time from the program and the speed override; gearbox (joint) wear grows with the square of the
  joint torque and shows as backlash, i.e. position error, and as friction heat. Failures: joint wear (position
  error past what the process tolerates), bearing, random.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from factorytwin.domain import FailureMode, MachineKind
from factorytwin.sim.physics.base import (
    F64,
    Block,
    KindModel,
    KindResult,
    accumulate,
    lag,
    shift_factor,
    vibration,
)

DAY_S = 86400.0


class ConveyorModel(KindModel):
    """A belt conveyor: belt wear, motor overheating."""

    kind = MachineKind.CONVEYOR
    modes = (FailureMode.BELT_WEAR, FailureMode.OVERHEATING, FailureMode.BEARING, FailureMode.RANDOM)
    wear_keys = ("belt", "bearing")
    repair_resets = MappingProxyType(
        {
            FailureMode.BELT_WEAR: ("belt",),
            FailureMode.OVERHEATING: ("belt",),  # the worn belt's friction made the heat: replaced
            FailureMode.BEARING: ("bearing",),
            FailureMode.RANDOM: (),
        }
    )
    repair_hours = MappingProxyType(
        {
            FailureMode.BELT_WEAR: 6.0,
            FailureMode.OVERHEATING: 2.0,
            FailureMode.BEARING: 6.0,
            FailureMode.RANDOM: 2.0,
        }
    )
    inspect_keys = MappingProxyType({"bearing": 0.6, "belt": 0.6})
    pm_interval_days = 90.0
    job_minutes = (30.0, 90.0)
    bearing_life_days = 200.0
    noise = MappingProxyType(
        {
            "air_temp": 0.1,
            "belt_speed": 0.01,
            "load": 25.0,
            "motor_temp": 0.15,
            "vibration": 0.1,
            "motor_current": 0.15,
        }
    )
    NOMINAL_M_S = 1.2
    OVERHEAT_K = 378.0  # winding temperature trip, about 105 degC

    def kind_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Belt life: from new to torn in ~120 days of running at average load."""
        return {"k_belt": 1.0 / (120.0 * DAY_S * rng.lognormal(0.0, 0.35, m))}

    def init_state(self, rng: np.random.Generator, consts: dict[str, F64], wear: F64) -> dict[str, F64]:
        """Belt and bearings part-used, motor warm."""
        m = int(wear.shape[0])
        return {"belt": 0.6 * wear, "bearing": 0.5 * wear, "motor_dt": np.full(m, 22.0)}

    def draw_jobs(self, rng: np.random.Generator, consts: dict[str, F64], shape: tuple[int, int]) -> dict[str, F64]:
        """A production period: the mass of parts the belt carries."""
        return {"load_kg": rng.uniform(300.0, 950.0, shape)}

    def physics(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """Belt speed, load, drive current with belt friction, motor temperature, belt flapping vibration."""
        mv, s = block.moving, block.speed[None, :]
        v = self.NOMINAL_M_S * s * mv
        load = block.job["load_kg"] * shift_factor(block.hour) * block.running[None, :]
        belt_rate = consts["k_belt"] * consts["accel"] * s * (0.5 + load / 1200.0) * mv
        belt = accumulate(state["belt"], belt_rate, block)
        current = (2.0 + (0.006 * load + 3.0) * (v / self.NOMINAL_M_S) * (1.0 + 0.5 * belt**2)) * mv
        motor_dt = lag(25.0 * (current / 9.0) ** 2 + 1.0, state["motor_dt"], block, 1500.0)
        bearing = self.bearing(block, state, consts, load / 900.0)
        moving = mv > 0
        conditions = {
            FailureMode.BELT_WEAR: moving & (belt >= 1.0),
            FailureMode.OVERHEATING: moving & (block.air + motor_dt > self.OVERHEAT_K),
        }
        values = {
            "air_temp": block.air,
            "belt_speed": v,
            "load": load,
            "motor_temp": block.air + motor_dt,
            "vibration": vibration(1.2, block.speed, mv, bearing, 2.5 * belt**2 * mv),
            "motor_current": current,
        }
        return KindResult(
            values=values, state={"belt": belt, "bearing": bearing, "motor_dt": motor_dt}, conditions=conditions
        )


class RobotModel(KindModel):
    """An industrial robot arm: joint (gearbox) wear shows as position error and heat."""

    kind = MachineKind.ROBOT_ARM
    modes = (FailureMode.JOINT_WEAR, FailureMode.BEARING, FailureMode.RANDOM)
    wear_keys = ("joint", "bearing")
    repair_resets = MappingProxyType(
        {FailureMode.JOINT_WEAR: ("joint",), FailureMode.BEARING: ("bearing",), FailureMode.RANDOM: ()}
    )
    repair_hours = MappingProxyType({FailureMode.JOINT_WEAR: 8.0, FailureMode.BEARING: 6.0, FailureMode.RANDOM: 2.0})
    inspect_keys = MappingProxyType({"bearing": 0.6, "joint": 0.6})
    pm_interval_days = 90.0
    job_minutes = (20.0, 60.0)
    bearing_life_days = 220.0
    noise = MappingProxyType(
        {
            "air_temp": 0.1,
            "joint_temp": 0.15,
            "joint_torque": 3.0,
            "cycle_time": 0.3,
            "position_error": 0.008,
            "vibration": 0.08,
            "motor_current": 0.2,
        }
    )
    POSITION_LIMIT_MM = 0.7  # beyond this the gripper misses the part: the cell stops

    def kind_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Gearbox life: from new to the position limit in ~110 days at the reference torque."""
        return {"k_joint": 1.0 / (110.0 * DAY_S * rng.lognormal(0.0, 0.35, m))}

    def init_state(self, rng: np.random.Generator, consts: dict[str, F64], wear: F64) -> dict[str, F64]:
        """Gearboxes and bearings part-used, joints warm."""
        m = int(wear.shape[0])
        return {"joint": 0.6 * wear, "bearing": 0.5 * wear, "joint_dt": np.full(m, 24.0)}

    def draw_jobs(self, rng: np.random.Generator, consts: dict[str, F64], shape: tuple[int, int]) -> dict[str, F64]:
        """A program: its cycle time at full speed and the joint torque its payload needs."""
        return {
            "cycle_s": np.clip(rng.normal(35.0, 7.0, shape), 18.0, 60.0),
            "torque_nm": np.clip(rng.normal(160.0, 35.0, shape), 60.0, 260.0),
        }

    def demo_fault(self, state: dict[str, F64], consts: dict[str, F64], i: int) -> None:
        """A worn gearbox wearing fast: position error alarm within minutes, then a joint failure."""
        state["joint"][i] = 0.82
        consts["accel"][i] = 300.0

    def physics(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """Cycle time, joint torque and temperature, position error from backlash, current."""
        mv, s, job = block.moving, block.speed[None, :], block.job
        torque_rel = job["torque_nm"] / 160.0
        joint = accumulate(state["joint"], consts["k_joint"] * consts["accel"] * s * torque_rel**2 * mv, block)
        torque = job["torque_nm"] * (1.0 + 0.25 * joint**2) * (0.85 + 0.15 * s**2) * mv
        position_error = (0.04 + 0.7 * joint**2) * mv + 0.02 * (1.0 - mv)
        joint_dt = lag((8.0 + 12.0 * torque_rel**2 * s + 10.0 * joint**2) * mv + 1.0, state["joint_dt"], block, 900.0)
        bearing = self.bearing(block, state, consts, torque_rel)
        conditions = {FailureMode.JOINT_WEAR: (mv > 0) & (position_error > self.POSITION_LIMIT_MM)}
        values = {
            "air_temp": block.air,
            "joint_temp": block.air + joint_dt,
            "joint_torque": torque,
            "cycle_time": job["cycle_s"] / np.maximum(s, 0.2) * mv,
            "position_error": position_error,
            "vibration": vibration(0.8, block.speed, mv, bearing, 1.5 * joint**2 * mv),
            "motor_current": (1.5 + 0.05 * torque) * mv,
        }
        return KindResult(
            values=values, state={"joint": joint, "bearing": bearing, "joint_dt": joint_dt}, conditions=conditions
        )
