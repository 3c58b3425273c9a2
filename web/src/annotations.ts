// Markers on the History charts: what happened to the machine in the range (faults, repairs, maintenance and work
// orders, commands, alarm raise and clear), from its event log and its alarms, each of a toggleable category.

import type { Alarm, MachineEvent } from "./api/types";

export type MarkerKind = "fault" | "repair" | "maintenance" | "workorder" | "command" | "alarm";

export const MARKER_KINDS: readonly MarkerKind[] = ["fault", "repair", "maintenance", "workorder", "command", "alarm"];

export const MARKER_LABEL: Record<MarkerKind, string> = {
  fault: "Faults",
  repair: "Repairs",
  maintenance: "Maintenance",
  workorder: "Work orders",
  command: "Commands",
  alarm: "Alarms",
};

export const MARKER_COLOR: Record<MarkerKind, string> = {
  fault: "#ef4444",
  repair: "#22c55e",
  maintenance: "#a78bfa",
  workorder: "#f59e0b",
  command: "#38bdf8",
  alarm: "#f472b6",
};

export interface Marker {
  kind: MarkerKind;
  /** Seconds since the epoch (uPlot's x). */
  t: number;
  text: string;
}

/** The category of an event, or null for one that is no marker (production counts, plain status, plant config). */
export function markerKind(e: MachineEvent): MarkerKind | null {
  const data = (e.data ?? {}) as Record<string, unknown>;
  if (typeof data.work_order === "number") return "workorder";
  if (e.kind === "fault" || e.status === "failed") return "fault";
  if (e.kind === "maintenance") return "maintenance";
  if (e.kind === "command") return "command";
  // a status event that ends a failure (the simulator's "repair": back to running or idle)
  if (e.kind === "status" && /repair/i.test(e.message ?? "")) return "repair";
  return null;
}

/** The markers of the events and alarms that fall in [from, to], oldest first. */
export function markersOf(events: readonly MachineEvent[], alarms: readonly Alarm[], from: Date, to: Date): Marker[] {
  const lo = from.getTime();
  const hi = to.getTime();
  const out: Marker[] = [];
  const add = (kind: MarkerKind, ts: string | null | undefined, text: string): void => {
    if (!ts) return;
    const ms = Date.parse(ts);
    if (Number.isFinite(ms) && ms >= lo && ms <= hi) out.push({ kind, t: ms / 1000, text });
  };
  for (const e of events) {
    const kind = markerKind(e);
    if (kind) add(kind, e.ts, e.message || e.kind);
  }
  for (const a of alarms) {
    add("alarm", a.raised_at, `raised: ${a.message}`);
    add("alarm", a.cleared_at, `cleared: ${a.message}`);
  }
  return out.sort((a, b) => a.t - b.t);
}

/** Counts of markers by kind (for the toggles' labels). */
export function countByKind(markers: readonly Marker[]): Record<MarkerKind, number> {
  const n = Object.fromEntries(MARKER_KINDS.map((k) => [k, 0])) as Record<MarkerKind, number>;
  for (const m of markers) n[m.kind] += 1;
  return n;
}
