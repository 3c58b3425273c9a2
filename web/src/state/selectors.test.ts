import { describe, expect, it } from "vitest";
import type { Machine, MachineState, StoredAlarm } from "../api/types";
import { fleetKpis, sortedAlarms, worstAlarmByMachine } from "./selectors";

const machine = (id: string): Machine => ({ id, name: id, profile: "pump", line: "l", x: 0, y: 0, rotation: 0 });
const state = (id: string, status: MachineState["status"], health: number): MachineState => ({
  machine_id: id,
  profile: "pump",
  status,
  health,
  last_seen: null,
  values: {},
  values_ts: null,
  failure_probability: null,
  speed_pct: 100,
  failure_mode: null,
});
const alarm = (
  id: number,
  severity: StoredAlarm["severity"],
  st: StoredAlarm["state"],
  machine_id = "a",
  raised = "2026-01-01T00:00:00Z",
): StoredAlarm => ({
  id,
  machine_id,
  type: "t",
  severity,
  state: st,
  message: "",
  raised_at: raised,
  updated_at: raised,
});

describe("fleetKpis", () => {
  it("counts statuses, availability and alarms by severity; unknown machines are offline", () => {
    const k = fleetKpis(
      [machine("a"), machine("b"), machine("c"), machine("d")],
      { a: state("a", "running", 80), b: state("b", "idle", 100), c: state("c", "failed", 10) },
      {
        1: alarm(1, "critical", "active_unack"),
        2: alarm(2, "minor", "active_ack"),
        3: alarm(3, "major", "cleared_ack"),
      },
    );
    expect(k.byStatus).toMatchObject({ running: 1, idle: 1, failed: 1, offline: 1 });
    expect(k.availability).toBe(0.5);
    expect(k.meanHealth).toBeCloseTo(190 / 3);
    expect(k.activeAlarms).toBe(2);
    expect(k.unacknowledged).toBe(1);
    expect(k.alarmsBySeverity).toEqual({ critical: 1, major: 0, minor: 1, warning: 0 });
  });

  it("has no availability for an empty fleet", () => {
    expect(fleetKpis([], {}, {}).availability).toBeNull();
  });
});

describe("sortedAlarms", () => {
  it("orders active before cleared, unacknowledged first, then severity, then newest", () => {
    const list = sortedAlarms({
      1: alarm(1, "warning", "active_unack"),
      2: alarm(2, "critical", "active_ack"),
      3: alarm(3, "critical", "cleared_unack"),
      4: alarm(4, "major", "active_unack", "a", "2026-01-01T00:05:00Z"),
      5: alarm(5, "major", "active_unack", "a", "2026-01-01T00:06:00Z"),
    });
    expect(list.map((a) => a.id)).toEqual([5, 4, 1, 2, 3]);
  });

  it("filters by machine and by active", () => {
    const alarms = {
      1: alarm(1, "minor", "active_unack", "a"),
      2: alarm(2, "minor", "cleared_ack", "a"),
      3: alarm(3, "minor", "active_unack", "b"),
    };
    expect(sortedAlarms(alarms, { machineId: "a", activeOnly: true }).map((a) => a.id)).toEqual([1]);
  });
});

describe("worstAlarmByMachine", () => {
  it("picks the most severe active alarm per machine", () => {
    expect(
      worstAlarmByMachine({
        1: alarm(1, "minor", "active_unack"),
        2: alarm(2, "major", "active_ack"),
        3: alarm(3, "critical", "cleared_ack"),
      }),
    ).toEqual({ a: "major" });
  });
});
