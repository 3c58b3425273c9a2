// The plan timeline's arithmetic (views/whatif/PlanTimeline.tsx): hours from the job's start <-> pixels, snapping a
// dragged visit to whole hours inside the horizon, the axis ticks and which rows a plan needs. Pure, unit-tested.

import type { PlanDraft } from "./whatif";

/** Pixels per hour: a short horizon is drawn wide enough to drag in, a long one scrolls (its own box). */
export function pxPerHour(horizonH: number): number {
  const h = Math.max(1, horizonH);
  return Math.min(60, Math.max(4, 640 / h));
}

export function hourToX(h: number, scale: number): number {
  return h * scale;
}

export function xToHour(x: number, scale: number): number {
  return scale > 0 ? x / scale : 0;
}

/** Where a visit of `hours` may start: whole hours, the whole visit inside [0, horizon] when it fits, else at 0. */
export function clampVisitStart(atH: number, hours: number, horizonH: number): number {
  const last = Math.max(0, Math.floor(horizonH - Math.max(0, hours)));
  const h = Math.round(Number.isFinite(atH) ? atH : 0);
  return Math.min(last, Math.max(0, h));
}

/** A visit dragged `dx` pixels from where it started (`fromH`), snapped and clamped. */
export function dragTo(fromH: number, dx: number, scale: number, hours: number, horizonH: number): number {
  return clampVisitStart(fromH + xToHour(dx, scale), hours, horizonH);
}

/** A visit moved one step (arrow keys): from the nearest whole hour, by `step` hours, clamped. */
export function stepTo(atH: number, step: number, hours: number, horizonH: number): number {
  return clampVisitStart(Math.round(atH) + step, hours, horizonH);
}

export interface Tick {
  h: number;
  label: string;
  /** a day boundary */
  day: boolean;
}

/** Axis ticks: every day (d1, d2, ...), and in between every few hours so that there are about eight or more. */
export function ticks(horizonH: number): Tick[] {
  const horizon = Math.max(1, horizonH);
  const steps = [1, 2, 3, 6, 12, 24];
  const step = horizon > 24 * 8 ? 24 : (steps.find((s) => horizon / s <= 12) ?? 24);
  const out: Tick[] = [];
  for (let h = 0; h <= horizon + 1e-9; h += step) {
    const day = h % 24 === 0;
    out.push({ h, day, label: day && h > 0 ? `d${h / 24}` : `${h} h` });
  }
  return out;
}

/** The timeline's rows: every target the plan touches (lines, then machines, in first-use order), then `extra`. */
export function timelineRows(plan: PlanDraft, extra: string[]): string[] {
  const seen: string[] = [];
  const add = (t: string): void => {
    if (!seen.includes(t)) seen.push(t);
  };
  for (const s of plan.speeds) if (s.target.startsWith("line:")) add(s.target);
  for (const s of plan.speeds) if (!s.target.startsWith("line:")) add(s.target);
  for (const v of plan.visits) add(`machine:${v.machine}`);
  for (const o of plan.outages) add(`machine:${o.machine}`);
  for (const t of extra) add(t);
  return seen;
}

/** An interval [from, to) in hours, `to` null meaning the horizon's end, clipped to the horizon; null if empty. */
export function span(fromH: number, toH: number | null, horizonH: number): [number, number] | null {
  const a = Math.max(0, Math.min(horizonH, fromH));
  const b = Math.max(0, Math.min(horizonH, toH ?? horizonH));
  return b > a ? [a, b] : null;
}
