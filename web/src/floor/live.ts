// Per-frame reads of the live twin for animation, without re-rendering React: models call these in useFrame.

import { twinStore } from "../state/store";

/** The live value of one sensor of a running machine, or 0 when it is not running or not reporting. */
export function runningValue(machineId: string, sensor: string): number {
  const m = twinStore.getState().machines[machineId];
  if (!m || m.status !== "running") return 0;
  const v = m.values[sensor];
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** Ease ``current`` towards ``target`` (so machines spin up and down rather than jump), per second ``rate``. */
export function approach(current: number, target: number, dt: number, rate = 1.5): number {
  return current + (target - current) * Math.min(1, dt * rate);
}

/** Visual spin of a shaft, rad/s, from its rpm: scaled down so the eye can follow it (no stroboscopic alias). */
export function visualSpin(rpm: number): number {
  return (rpm / 60) * 2 * Math.PI * 0.08;
}
