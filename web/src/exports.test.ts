import { describe, expect, it } from "vitest";
import { alarmExportQuery, historyExportQuery, machineEventsExportQuery } from "./exports";

const NOW = new Date("2026-03-02T12:00:00Z");

describe("alarm table download", () => {
  it("asks for the active states over the last day when the table is active only", () => {
    expect(alarmExportQuery(true, [{ raised_at: "2026-03-02T11:00:00Z" }], NOW).toString()).toBe(
      "state=active_unack&state=active_ack&from=2026-03-01T12%3A00%3A00.000Z&format=csv",
    );
  });

  it("reaches back to the oldest alarm shown, and asks for every state when it shows all", () => {
    const shown = [{ raised_at: "2026-02-20T08:00:00Z" }, { raised_at: "not a time" }];
    const q = alarmExportQuery(false, shown, NOW);
    expect(q.has("state")).toBe(false);
    expect(q.get("from")).toBe("2026-02-20T08:00:00.000Z");
  });
});

describe("machine event log download", () => {
  it("asks for the machine's events of the last day", () => {
    expect(machineEventsExportQuery("mill-01", NOW).toString()).toBe(
      "machine_id=mill-01&from=2026-03-01T12%3A00%3A00.000Z&format=csv",
    );
  });
});

describe("history chart download", () => {
  it("asks for the machine's shown sensors over the chart's range", () => {
    const q = historyExportQuery("mill-01", ["spindle_speed", "torque"], new Date("2026-03-02T06:00:00Z"), NOW);
    expect(q.toString()).toBe(
      "machine_id=mill-01&sensor=spindle_speed&sensor=torque&from=2026-03-02T06%3A00%3A00.000Z" +
        "&to=2026-03-02T12%3A00%3A00.000Z&format=csv",
    );
  });
});
