// Work orders in the dashboard: the moves the server allows from each state (models.py ALLOWED), their labels,
// and the list's query. The server is the judge (409 on a move it refuses); this only decides which buttons show.

import type { WorkOrder, WorkOrderState } from "./api/types";

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

export function workOrderQuery(f: WorkOrderFilters, limit = 200): URLSearchParams {
  const q = new URLSearchParams();
  if (f.machine) q.set("machine_id", f.machine);
  const states: readonly WorkOrderState[] =
    f.state === "active" ? ["open", "assigned", "in_progress"] : f.state ? [f.state] : [];
  for (const s of states) q.append("state", s);
  q.set("limit", String(limit));
  return q;
}

/** Who moved the order into its current state, and when (the last step). */
export function lastStep(o: WorkOrder): { by: string; at: string } | null {
  const s = o.steps?.[o.steps.length - 1];
  return s ? { by: s.by, at: s.at } : null;
}
