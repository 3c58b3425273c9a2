import { describe, expect, it } from "vitest";
import type { ScheduledTask, WorkOrder } from "./api/types";
import { NEXT, ordersByVisit, visitKey, visitWorkOrder, workOrderExportQuery, workOrderQuery } from "./workorders";

const TASK: ScheduledTask = {
  machine_id: "mill-01",
  shift_start: "2026-03-02T14:00:00Z",
  shift_index: 1,
  hours: 3,
  probability: 0.342,
  risk_if_deferred: 1200,
  reason: "tool wear high",
};

function order(id: number, extra: Partial<WorkOrder>): WorkOrder {
  return {
    id,
    machine_id: "mill-01",
    title: "x",
    description: "",
    source: "schedule",
    alarm_id: null,
    planned_for: "2026-03-02T14:00:00Z",
    state: "open",
    assignee: null,
    downtime_start: null,
    downtime_end: null,
    parts: [],
    created_at: "2026-03-02T10:00:00Z",
    created_by: "olga",
    updated_at: "2026-03-02T10:00:00Z",
    version: 1,
    steps: [],
    notes: [],
    ...extra,
  };
}

describe("work orders", () => {
  it("asks for the active states by default, one state, or all", () => {
    expect(workOrderQuery({ machine: "", state: "active" }).getAll("state")).toEqual([
      "open",
      "assigned",
      "in_progress",
    ]);
    expect(workOrderQuery({ machine: "mill-01", state: "done" }).toString()).toBe(
      "machine_id=mill-01&state=done&limit=200",
    );
    expect(workOrderQuery({ machine: "", state: "" }).has("state")).toBe(false);
  });

  it("downloads every order the list's filters match, without its limit", () => {
    expect(workOrderExportQuery({ machine: "mill-01", state: "active" }).toString()).toBe(
      "machine_id=mill-01&state=open&state=assigned&state=in_progress&format=csv",
    );
    expect(workOrderExportQuery({ machine: "", state: "" }).toString()).toBe("format=csv");
  });

  it("opens a work order from a schedule visit naming the visit and its shift", () => {
    const body = visitWorkOrder(TASK, "02 Mar 14:00", "v3");
    expect(body).toEqual({
      machine_id: "mill-01",
      title: "Maintenance visit, shift of 02 Mar 14:00 (schedule)",
      description: "Planned by the maintenance schedule (model v3). P(fail) 34 %. tool wear high",
      source: "schedule",
      planned_for: "2026-03-02T14:00:00Z",
    });
    expect(visitWorkOrder({ ...TASK, reason: "r".repeat(3000) }, "x", null).description).toHaveLength(2000);
  });

  it("finds the order of each visit, the newest of several, by machine and shift instant", () => {
    const found = ordersByVisit([
      order(3, { planned_for: "2026-03-02T14:00:00+00:00" }),
      order(5, {}),
      order(4, { machine_id: "mill-02" }),
      order(6, { source: "manual", planned_for: null }),
    ]);
    expect(found.get(visitKey("mill-01", TASK.shift_start))?.id).toBe(5);
    expect(found.get(visitKey("mill-02", TASK.shift_start))?.id).toBe(4);
    expect(found.size).toBe(2);
  });

  it("offers no move out of a final state", () => {
    expect(NEXT.done).toEqual([]);
    expect(NEXT.cancelled).toEqual([]);
    expect(NEXT.in_progress).toContain("done");
  });
});
