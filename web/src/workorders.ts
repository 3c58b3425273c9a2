// Work orders in the dashboard: the moves the server allows from each state (models.py ALLOWED), their labels,
// and the list's query. The server is the judge (409 on a move it refuses); this only decides which buttons show.

import type { ScheduledTask, WorkOrder, WorkOrderCreate, WorkOrderState } from "./api/types";

export const STATES: readonly WorkOrderState[] = ["open", "assigned", "in_progress", "done", "cancelled"];

export const STATE_LABEL: Record<WorkOrderState, string> = {
  open: "open",
  assigned: "assigned",
  in_progress: "in progress",
  done: "done",
  cancelled: "cancelled",
};

/** The moves from each state, as the server allows them (done and cancelled are final). */
export const NEXT: Record<WorkOrderState, readonly WorkOrderState[]> = {
  open: ["assigned", "in_progress", "cancelled"],
  assigned: ["in_progress", "cancelled"],
  in_progress: ["done", "cancelled"],
  done: [],
  cancelled: [],
};

export const MOVE_LABEL: Record<WorkOrderState, string> = {
  open: "Reopen",
  assigned: "Assign",
  in_progress: "Start",
  done: "Done",
  cancelled: "Cancel",
};

export interface WorkOrderFilters {
  machine: string;
  /** "" any, "active" open/assigned/in progress, or one state. */
  state: "" | "active" | WorkOrderState;
}

export const NO_WO_FILTERS: WorkOrderFilters = { machine: "", state: "active" };

export const ACTIVE_STATES: readonly WorkOrderState[] = ["open", "assigned", "in_progress"];

function filterQuery(f: WorkOrderFilters): URLSearchParams {
  const q = new URLSearchParams();
  if (f.machine) q.set("machine_id", f.machine);
  const states: readonly WorkOrderState[] = f.state === "active" ? ACTIVE_STATES : f.state ? [f.state] : [];
  for (const s of states) q.append("state", s);
  return q;
}

export function workOrderQuery(f: WorkOrderFilters, limit = 200): URLSearchParams {
  const q = filterQuery(f);
  q.set("limit", String(limit));
  return q;
}

/** The query of GET /exports/work-orders for the list's filters: every order they match (not only the newest
 * `limit` the list shows), of any creation time. */
export function workOrderExportQuery(f: WorkOrderFilters, format: "csv" | "parquet" | "json" = "csv"): URLSearchParams {
  const q = filterQuery(f);
  q.set("format", format);
  return q;
}

/** A visit of the maintenance schedule as one machine and shift: the key a visit and its work order share. */
export function visitKey(machineId: string, shiftStart: string): string {
  return `${machineId}@${Date.parse(shiftStart)}`;
}

/** The work order opened from a visit of the schedule: its machine, a title naming the visit (`when` is the
 * visit's shift start as the plant reads it), the schedule's reasons, and the visit's shift as `planned_for`. */
export function visitWorkOrder(task: ScheduledTask, when: string, modelVersion: string | null): WorkOrderCreate {
  const p = Number.isFinite(task.probability) ? ` P(fail) ${Math.round(task.probability * 100)} %.` : "";
  const model = modelVersion ? ` (model ${modelVersion})` : "";
  return {
    machine_id: task.machine_id,
    title: `Maintenance visit, shift of ${when} (schedule)`.slice(0, 200),
    description: `Planned by the maintenance schedule${model}.${p} ${task.reason}`.trim().slice(0, 2000),
    source: "schedule",
    planned_for: task.shift_start,
  };
}

/** The unfinished work orders opened from schedule visits, by `visitKey`: what the schedule shows in place of
 * its button (the newest when a visit has several). */
export function ordersByVisit(orders: readonly WorkOrder[]): Map<string, WorkOrder> {
  const out = new Map<string, WorkOrder>();
  for (const o of orders) {
    if (o.source !== "schedule" || !o.planned_for) continue;
    const key = visitKey(o.machine_id, o.planned_for);
    const seen = out.get(key);
    if (!seen || seen.id < o.id) out.set(key, o);
  }
  return out;
}

/** Who moved the order into its current state, and when (the last step). */
export function lastStep(o: WorkOrder): { by: string; at: string } | null {
  const s = o.steps?.[o.steps.length - 1];
  return s ? { by: s.by, at: s.at } : null;
}
