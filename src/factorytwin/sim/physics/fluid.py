"""Hydraulic presses, centrifugal pumps and screw air compressors.

- Press: each stroke's ram force is made by hydraulic pressure on the piston; seals wear with every stroke in
  proportion to the pressure squared; worn seals leak, which costs pressure and heats the oil; a fouled oil cooler
  heats it too. Failures: seal wear, overpressure (a misfed double blank), oil overheating, bearing, random.
- Pump: speed follows the coolant demand of the shifts; flow is proportional to speed and head to its square
  (affinity laws); a clogging suction strainer lowers the inlet pressure until it falls under the pressure the
  pump needs (NPSH) and it cavitates: vibration rises and the impeller erodes. Failures: cavitation, bearing, random.
- Compressor: a variable-speed drive follows the air demand; discharge and oil temperatures rise with load and
  with the fouling of the cooler. Failures: overheating, bearing, random.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from factorytwin.domain import FailureMode, MachineKind
from factorytwin.sim.physics.base import (
    F64,
    Block,
    KindModel,
    KindResult,
    accumulate,
    lag,
    motor_current,
    shift_factor,
    vibration,
)

DAY_S = 86400.0


def _life_rate(rng: np.random.Generator, m: int, median_days: float, sigma: float = 0.35) -> F64:
    """A per-machine rate that takes a wear state from 0 to 1 in a log-normally spread life, per second."""
    return 1.0 / (median_days * DAY_S * rng.lognormal(0.0, sigma, m))


class PressModel(KindModel):
    """A hydraulic press: seal wear, overpressure, oil overheating."""

    kind = MachineKind.HYDRAULIC_PRESS
    modes = (
        FailureMode.OVERPRESSURE,
        FailureMode.SEAL_WEAR,
        FailureMode.OVERHEATING,
        FailureMode.BEARING,
        FailureMode.RANDOM,
    )
    wear_keys = ("seal_wear", "fouling", "bearing")
    repair_resets = MappingProxyType(
        {
            FailureMode.OVERPRESSURE: (),
            FailureMode.SEAL_WEAR: ("seal_wear",),
            FailureMode.OVERHEATING: ("fouling",),
            FailureMode.BEARING: ("bearing",),
            FailureMode.RANDOM: (),
        }
    )
    repair_hours = MappingProxyType(
        {
            FailureMode.OVERPRESSURE: 2.0,
            FailureMode.SEAL_WEAR: 6.0,
            FailureMode.OVERHEATING: 3.0,
            FailureMode.BEARING: 10.0,
            FailureMode.RANDOM: 3.0,
        }
    )
    inspect_keys = MappingProxyType({"bearing": 0.6, "seal_wear": 60.0})
    threshold_part = "seal_wear"
    pm_interval_days = 35.0
    job_minutes = (15.0, 60.0)
    bearing_life_days = 200.0
    noise = MappingProxyType(
        {
            "air_temp": 0.1,
            "oil_temp": 0.15,
            "hydraulic_pressure": 1.5,
            "ram_force": 12.0,
            "stroke_rate": 0.2,
            "seal_wear": 0.0,
            "vibration": 0.15,
            "motor_current": 1.0,
        }
    )
    OVERPRESSURE_BAR = 300.0
    OVERHEAT_K = 350.0
    FORCE_KN = 1300.0

    def kind_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Seal life (in % per stroke at 180 bar) and cooler fouling rate vary from press to press."""
        strokes_per_life = 55.0 * DAY_S / 60.0 * 18.0 * rng.lognormal(0.0, 0.3, m)  # ~55 days at 18 strokes/min
        return {"seal_per_stroke": 100.0 / strokes_per_life, "k_fouling": _life_rate(rng, m, 55.0)}

    def init_state(self, rng: np.random.Generator, consts: dict[str, F64], wear: F64) -> dict[str, F64]:
        """Seals and cooler part-used; oil warm."""
        m = int(wear.shape[0])
        return {
            "seal_wear": 60.0 * wear,
            "fouling": 0.6 * wear,
            "bearing": 0.5 * wear,
            "oil_dt": np.full(m, 20.0),
            "seal_fail_at": rng.uniform(85.0, 97.0, m),
        }

    def redraw(
        self, rng: np.random.Generator, state: dict[str, F64], consts: dict[str, F64], idx: NDArray[np.intp]
    ) -> None:
        """New seals fail at a random wear of 85-97 %."""
        state["seal_fail_at"][idx] = rng.uniform(85.0, 97.0, len(idx))

    def draw_jobs(self, rng: np.random.Generator, consts: dict[str, F64], shape: tuple[int, int]) -> dict[str, F64]:
        """A batch of parts: forming force, stroke rate, and rarely a misfed double blank part-way through."""
        misfeed = rng.random(shape) < 0.003
        return {
            "force_kn": np.clip(rng.normal(self.FORCE_KN, 180.0, shape), 1000.0, 2200.0),
            "rate": np.clip(rng.normal(18.0, 3.0, shape), 10.0, 28.0),
            "misfeed_at": np.where(misfeed, rng.uniform(0.0, 1800.0, shape), np.inf),
            "misfeed_x": rng.uniform(1.9, 2.6, shape),
        }

    def demo_fault(self, state: dict[str, F64], consts: dict[str, F64], i: int) -> None:
        """Worn seals wearing fast: seal-wear alarm within minutes, then a seal failure."""
        state["seal_wear"][i] = 66.0
        state["seal_fail_at"][i] = 88.0
        consts["accel"][i] = 150.0

    def physics(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """Ram force, pressure, stroke rate, seal wear, oil temperature, current, vibration."""
        mv, job, s = block.moving, block.job, block.speed[None, :]
        misfed = block.job_age >= job["misfeed_at"]
        force = job["force_kn"] * np.where(misfed, job["misfeed_x"], 1.0) * (1.0 + 0.5 * np.maximum(s - 1.0, 0.0))
        force = force * mv
        pressure = 70.0 + 0.08 * force  # bar: piston area, plus the return circuit's base pressure
        rate = job["rate"] * s * mv  # strokes per minute
        seal_rate = consts["seal_per_stroke"] * consts["accel"] * rate / 60.0 * (pressure / 180.0) ** 2
        seal = np.minimum(accumulate(state["seal_wear"], seal_rate, block), 100.0)
        leak = (seal / 100.0) ** 2
        fouling = accumulate(state["fouling"], consts["k_fouling"] * consts["accel"] * mv, block)
        load = (force / self.FORCE_KN) * (rate / 18.0)
        oil_target = (12.0 + 10.0 * load) * (1.0 + 1.2 * fouling) * mv + 18.0 * leak * mv + 3.0
        oil_dt = lag(oil_target, state["oil_dt"], block, 1800.0)
        bearing = self.bearing(block, state, consts, load)
        moving = mv > 0
        conditions = {
            FailureMode.OVERPRESSURE: moving & (pressure > self.OVERPRESSURE_BAR),
            FailureMode.SEAL_WEAR: moving & (seal >= state["seal_fail_at"]),
            FailureMode.OVERHEATING: moving & (block.air + oil_dt > self.OVERHEAT_K),
        }
        standby_bar = 5.0 * (1.0 - mv) * block.running[None, :]
        values = {
            "air_temp": block.air,
            "oil_temp": block.air + oil_dt,
            "hydraulic_pressure": pressure * (1.0 - 0.15 * leak) * mv + standby_bar,
            "ram_force": force,
            "stroke_rate": rate,
            "seal_wear": seal,
            "vibration": vibration(2.2, block.speed, mv, bearing),
            "motor_current": (20.0 + 55.0 * load + 35.0 * leak) * mv,
        }
        state_traj = {"seal_wear": seal, "fouling": fouling, "bearing": bearing, "oil_dt": oil_dt}
        return KindResult(values=values, state=state_traj, conditions=conditions)


class PumpModel(KindModel):
    """A centrifugal coolant pump: cavitation from a clogging strainer, bearing wear."""

    kind = MachineKind.PUMP
    modes = (FailureMode.CAVITATION, FailureMode.BEARING, FailureMode.RANDOM)
    wear_keys = ("clog", "cavitation", "bearing")
    repair_resets = MappingProxyType(
        {
            FailureMode.CAVITATION: ("clog", "cavitation"),
            FailureMode.BEARING: ("bearing",),
            FailureMode.RANDOM: (),
        }
    )
    repair_hours = MappingProxyType({FailureMode.CAVITATION: 8.0, FailureMode.BEARING: 8.0, FailureMode.RANDOM: 3.0})
    pm_interval_days = 60.0
    job_minutes = (30.0, 120.0)
    bearing_life_days = 140.0
    noise = MappingProxyType(
        {
            "air_temp": 0.1,
            "inlet_pressure": 0.02,
            "outlet_pressure": 0.05,
            "flow_rate": 0.8,
            "motor_speed": 5.0,
            "bearing_temp": 0.15,
            "vibration": 0.12,
            "motor_current": 0.4,
        }
    )
    RATED_RPM = 2950.0
    RATED_FLOW = 100.0  # m3/h at rated speed
    CAVITATION_LIFE_S = 900.0  # an impeller survives about a quarter of an hour of full cavitation

    def kind_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Strainer clogging rate (from clean to 1 in ~80 days) and rated flow (layout ``rated_flow_m3h``)."""
        rated = [float(md.get("rated_flow_m3h", self.RATED_FLOW)) for md in metadata]  # type: ignore[arg-type]
        return {"k_clog": _life_rate(rng, m, 80.0, 0.4), "rated_flow": np.array(rated)}

    def init_state(self, rng: np.random.Generator, consts: dict[str, F64], wear: F64) -> dict[str, F64]:
        """Strainer and bearings part-used, no cavitation damage."""
        m = int(wear.shape[0])
        return {"clog": 0.6 * wear, "cavitation": np.zeros(m), "bearing": 0.5 * wear, "bearing_dt": np.full(m, 25.0)}

    def draw_jobs(self, rng: np.random.Generator, consts: dict[str, F64], shape: tuple[int, int]) -> dict[str, F64]:
        """A demand period: the coolant demand as a fraction of rated speed."""
        return {"demand": rng.uniform(0.78, 0.98, shape)}

    def demo_fault(self, state: dict[str, F64], consts: dict[str, F64], i: int) -> None:
        """A strainer close to clogged and clogging fast: low inlet pressure alarm, cavitation, failure."""
        state["clog"][i] = 1.0
        consts["accel"][i] = 300.0

    def physics(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """Affinity laws, inlet pressure from tank level and strainer, NPSH margin, cavitation damage."""
        mv, s = block.moving, block.speed[None, :]
        rpm = self.RATED_RPM * np.minimum(s * block.job["demand"] * shift_factor(block.hour) ** 0.5, 1.2) * mv
        n_rel = rpm / self.RATED_RPM
        flow = consts["rated_flow"] * n_rel
        q_rel = flow / self.RATED_FLOW
        clog = accumulate(state["clog"], consts["k_clog"] * consts["accel"] * mv, block)
        tank_bar = 1.7 + 0.1 * np.sin(2.0 * np.pi * block.hour / 24.0)[:, None]
        inlet = tank_bar - (0.15 + 1.5 * clog) * q_rel**2
        npsh_bar = 0.2 + 0.3 * q_rel**2  # inlet pressure the pump needs at this flow
        cav = np.clip((npsh_bar - inlet) / 0.3, 0.0, 1.0) * mv
        cav_damage = accumulate(state["cavitation"], cav, block)
        head = 8.5 * n_rel**2 * (1.0 - 0.3 * cav)
        outlet = np.maximum(inlet, 0.0) + head
        shaft_w = (flow / 3600.0) * head * 1e5 / 0.75  # hydraulic power over pump efficiency
        bearing = self.bearing(block, state, consts, n_rel)
        bearing_dt = lag((12.0 + 18.0 * n_rel + 35.0 * bearing**2) * mv + 1.0, state["bearing_dt"], block, 1200.0)
        conditions = {FailureMode.CAVITATION: (mv > 0) & (cav_damage >= self.CAVITATION_LIFE_S)}
        values = {
            "air_temp": block.air,
            "inlet_pressure": np.where(mv > 0, inlet, tank_bar),
            "outlet_pressure": np.where(mv > 0, outlet, tank_bar),
            "flow_rate": flow * (1.0 - 0.25 * cav),
            "motor_speed": rpm,
            "bearing_temp": block.air + bearing_dt,
            "vibration": vibration(1.5, block.speed, mv, bearing, 3.0 * cav),
            "motor_current": motor_current(5.0, shaft_w, mv),
        }
        state_traj = {"clog": clog, "cavitation": cav_damage, "bearing": bearing, "bearing_dt": bearing_dt}
        return KindResult(values=values, state=state_traj, conditions=conditions)


class CompressorModel(KindModel):
    """A screw air compressor with a variable-speed drive: overheating from a fouled cooler, bearing wear."""

    kind = MachineKind.AIR_COMPRESSOR
    modes = (FailureMode.OVERHEATING, FailureMode.BEARING, FailureMode.RANDOM)
    wear_keys = ("fouling", "bearing")
    repair_resets = MappingProxyType(
        {FailureMode.OVERHEATING: ("fouling",), FailureMode.BEARING: ("bearing",), FailureMode.RANDOM: ()}
    )
    repair_hours = MappingProxyType({FailureMode.OVERHEATING: 4.0, FailureMode.BEARING: 12.0, FailureMode.RANDOM: 3.0})
    pm_interval_days = 60.0
    job_minutes = (30.0, 120.0)
    bearing_life_days = 150.0
    noise = MappingProxyType(
        {
            "air_temp": 0.1,
            "discharge_pressure": 0.03,
            "discharge_temp": 0.3,
            "oil_temp": 0.15,
            "motor_speed": 5.0,
            "vibration": 0.12,
            "motor_current": 0.5,
        }
    )
    RATED_RPM = 2950.0
    OVERHEAT_K = 388.0  # discharge temperature trip, about 115 degC

    def kind_consts(self, rng: np.random.Generator, m: int, metadata: list[dict[str, object]]) -> dict[str, F64]:
        """Cooler fouling rate: from clean to 1 in ~75 days."""
        return {"k_fouling": _life_rate(rng, m, 75.0, 0.4)}

    def init_state(self, rng: np.random.Generator, consts: dict[str, F64], wear: F64) -> dict[str, F64]:
        """Cooler and bearings part-used, temperatures at working level."""
        m = int(wear.shape[0])
        return {"fouling": 0.6 * wear, "bearing": 0.5 * wear, "dis_dt": np.full(m, 55.0), "oil_dt": np.full(m, 36.0)}

    def draw_jobs(self, rng: np.random.Generator, consts: dict[str, F64], shape: tuple[int, int]) -> dict[str, F64]:
        """A demand period: compressed-air demand as a fraction of the rated capacity."""
        return {"demand": rng.uniform(0.55, 0.95, shape)}

    def demo_fault(self, state: dict[str, F64], consts: dict[str, F64], i: int) -> None:
        """A badly fouled cooler fouling fast: high discharge temperature alarm, then an overheating trip."""
        state["fouling"][i] = 1.0
        consts["accel"][i] = 400.0

    def physics(self, block: Block, state: dict[str, F64], consts: dict[str, F64]) -> KindResult:
        """Speed from demand (capped by the setpoint), pressure sag when capacity is short, temperatures."""
        mv, s = block.moving, block.speed[None, :]
        demand = block.job["demand"] * shift_factor(block.hour)
        load = np.clip(np.minimum(demand, s), 0.5, 1.2) * mv
        short = np.maximum(demand - s, 0.0)  # capacity below demand: the network pressure sags
        pressure = (7.6 - 6.0 * short + 0.3 * (1.0 - load)) * mv + 1.0 * (1.0 - mv)
        fouling = accumulate(state["fouling"], consts["k_fouling"] * consts["accel"] * mv, block)
        dis_dt = lag((35.0 + 18.0 * load) * (1.0 + 0.7 * fouling) * mv + 2.0, state["dis_dt"], block, 300.0)
        oil_dt = lag((26.0 + 14.0 * load) * (1.0 + 0.6 * fouling) * mv + 2.0, state["oil_dt"], block, 900.0)
        bearing = self.bearing(block, state, consts, load)
        conditions = {FailureMode.OVERHEATING: (mv > 0) & (block.air + dis_dt > self.OVERHEAT_K)}
        values = {
            "air_temp": block.air,
            "discharge_pressure": pressure,
            "discharge_temp": block.air + dis_dt,
            "oil_temp": block.air + oil_dt,
            "motor_speed": self.RATED_RPM * load,
            "vibration": vibration(2.0, block.speed, mv, bearing),
            "motor_current": motor_current(12.0, 37_000.0 * load, mv),
        }
        state_traj = {"fouling": fouling, "bearing": bearing, "dis_dt": dis_dt, "oil_dt": oil_dt}
        return KindResult(values=values, state=state_traj, conditions=conditions)
