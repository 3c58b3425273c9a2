// What-if plans as the dashboard edits them (hours from the start, strings from inputs) and their wire form
// (POST /scenarios: offsets in seconds after the start). Pure, so that it is unit-tested.

import type { ScenarioPlan, ScenarioProgress, ScenarioRequest, Spread } from "./api/types";

export interface SpeedDraft {
  /** "machine:<id>" or "line:<id>" */
  target: string;
  pct: number;
  fromH: number;
  /** null: to the end of the horizon */
  toH: number | null;
}

export interface VisitDraft {
  action: "add" | "move" | "remove";
  machine: string;
  atH: number;
  hours: number;
}

export interface OutageDraft {
  machine: string;
  fromH: number;
  toH: number | null;
}

/** When the technicians work (UTC hours of the day, weekdays 0 = Monday); a visit starts only then. */
export interface WorkingDraft {
  fromHour: number;
  toHour: number;
  weekdays: number[];
}

export interface PlanDraft {
  name: string;
  speeds: SpeedDraft[];
  visits: VisitDraft[];
  outages: OutageDraft[];
  technicians: number;
  /** null: around the clock */
  working: WorkingDraft | null;
}

export function emptyPlan(name: string): PlanDraft {
  return { name, speeds: [], visits: [], outages: [], technicians: 2, working: null };
}

/** The working hours offered when "around the clock" is unticked: 06-22, Monday to Friday. */
export function defaultWorking(): WorkingDraft {
  return { fromHour: 6, toHour: 22, weekdays: [0, 1, 2, 3, 4] };
}

export const WEEKDAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"] as const;

/** A weekday ticked or unticked, the list kept sorted and without repeats. */
export function toggleWeekday(days: number[], day: number): number[] {
  return days.includes(day) ? days.filter((d) => d !== day) : [...days, day].sort((a, b) => a - b);
}

const S_PER_H = 3600;

/** The plan as the API takes it. */
export function planBody(d: PlanDraft): ScenarioPlan {
  return {
    name: d.name.trim() || "scenario",
    technicians: d.technicians,
    speeds: d.speeds.map((s) => {
      const [scope, id] = splitTarget(s.target);
      return {
        ...(scope === "line" ? { line: id, machine_id: null } : { machine_id: id, line: null }),
        speed_pct: s.pct,
        start: s.fromH * S_PER_H,
        end: s.toH === null ? null : s.toH * S_PER_H,
      };
    }),
    visits: d.visits.map((v) => ({
      action: v.action,
      machine_id: v.machine,
      at: v.action === "remove" ? null : v.atH * S_PER_H,
      hours: v.hours,
    })),
    out_of_service: d.outages.map((o) => ({
      machine_id: o.machine,
      start: o.fromH * S_PER_H,
      end: o.toH === null ? null : o.toH * S_PER_H,
    })),
    working_hours: d.working
      ? { from_hour: d.working.fromHour, to_hour: d.working.toHour, weekdays: [...d.working.weekdays] }
      : null,
  };
}

export function splitTarget(target: string): ["machine" | "line", string] {
  const i = target.indexOf(":");
  const scope = target.slice(0, i) === "line" ? "line" : "machine";
  return [scope, target.slice(i + 1)];
}

export function requestBody(plans: PlanDraft[], horizonH: number, runs: number, seed: number): ScenarioRequest {
  return { scenarios: plans.map(planBody), horizon_h: horizonH, runs, seed };
}

/** A job is over (nothing more will come on the stream for it). */
export function isFinal(state: ScenarioProgress["state"]): boolean {
  return state === "done" || state === "failed" || state === "cancelled";
}

/** The words a job's state is shown with: never "done" for what is not. */
export function stateLabel(p: Pick<ScenarioProgress, "state" | "progress">): string {
  switch (p.state) {
    case "queued":
      return "pending (queued)";
    case "running":
      return `running ${Math.round(p.progress * 100)} %`;
    case "done":
      return "done";
    case "failed":
      return "failed";
    case "cancelled":
      return "cancelled";
  }
}

/** Min and max over spreads (a shared axis for interval bars), padded a little, never empty. */
export function extent(spreads: Spread[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of spreads) {
    lo = Math.min(lo, s.low, s.mean);
    hi = Math.max(hi, s.high, s.mean);
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo > 0) lo = 0;
  if (hi - lo < 1e-9) hi = lo + 1;
  return [lo, hi + (hi - lo) * 0.05];
}

/** A difference's interval in words: whether it is clear of zero. */
export function differenceVerdict(d: { low: number; high: number }): "lower" | "higher" | "unclear" {
  if (d.high < 0) return "lower";
  if (d.low > 0) return "higher";
  return "unclear";
}
