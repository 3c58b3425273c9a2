import { describe, expect, it } from "vitest";
import type { MachineEvent, MachineState, Prediction, ServerMessage, StoredAlarm } from "../api/types";
import { initialTwinState, SERIES_CAP, twinReducer, type TwinState } from "./reducer";

const ms = (id: string, extra: Partial<MachineState> = {}): MachineState => ({
  machine_id: id,
  profile: "cnc_mill",
  failure_probability: null,
  speed_pct: 100,
  failure_mode: null,
  status: "running",
  health: 90,
  last_seen: "2026-01-01T00:00:00Z",
  values: { vibration: 2 },
  values_ts: "2026-01-01T00:00:00Z",
  ...extra,
});

const alarm = (id: number, extra: Partial<StoredAlarm> = {}): StoredAlarm => ({
  id,
  machine_id: "mill-01",
  type: "high:vibration",
  severity: "major",
  state: "active_unack",
  message: "Vibration high",
  raised_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...extra,
});

const prediction = (probability: number): Prediction => ({
  status: "ok",
  machine_id: "m",
  ts: "2026-01-01T00:00:00Z",
  model_version: "v1",
  probability,
  horizon: 24,
  horizon_unit: "h",
  alert: false,
  rul: null,
  likely_mode: null,
  mode_probabilities: {},
  reasons: [],
  hours_since_service: null,
  machine_status: null,
  status_since: null,
  failure_mode: null,
  repair_progress: null,
  expected_back: null,
  message: "",
});

function feed(state: TwinState, ...messages: ServerMessage[]): TwinState {
  return messages.reduce(
    (s, message, i) => twinReducer(s, { type: "ws/message", message, receivedAt: 1000 + i }),
    state,
  );
}

describe("twinReducer", () => {
  it("replaces machines and active alarms with a snapshot", () => {
    const s = feed(initialTwinState, {
      type: "snapshot",
      part: 0,
      last: true,
      machines: [ms("mill-01"), ms("pump-01")],
      alarms: [alarm(1)],
    });
    expect(Object.keys(s.machines).sort()).toEqual(["mill-01", "pump-01"]);
    expect(s.alarms[1]?.state).toBe("active_unack");
    expect(s.messagesReceived).toBe(1);
    expect(s.lastMessageAt).toBe(1000);
  });

  it("builds the picture from a snapshot streamed in parts: part 0 replaces, later parts add", () => {
    let s = feed(initialTwinState, {
      type: "snapshot",
      part: 0,
      last: true,
      machines: [ms("old")],
      alarms: [alarm(9)],
    });
    s = feed(
      s,
      {
        type: "snapshot",
        part: 0,
        last: false,
        machines: [ms("m-0"), ms("m-1")],
        alarms: [alarm(1, { machine_id: "m-1" })],
      },
      { type: "snapshot", part: 1, last: false, machines: [ms("m-2")], alarms: [] },
      { type: "snapshot", part: 2, last: true, machines: [ms("m-3")], alarms: [alarm(3, { machine_id: "m-3" })] },
    );
    expect(Object.keys(s.machines).sort()).toEqual(["m-0", "m-1", "m-2", "m-3"]);
    expect(Object.keys(s.alarms).sort()).toEqual(["1", "3"]);
    expect(s.series["m-2"]?.vibration?.v).toEqual([2]);
    // a reading after the parts lands on its machine as with a one-message snapshot
    s = feed(s, { type: "reading", machine_id: "m-3", ts: "2026-01-01T00:00:01Z", values: { vibration: 4 } });
    expect(s.machines["m-3"]?.values.vibration).toBe(4);
  });

  it("takes a snapshot part of many machines in one pass, each machine once", () => {
    const machines = Array.from({ length: 2000 }, (_, i) => ms(`m-${i}`));
    const s = feed(initialTwinState, { type: "snapshot", part: 0, last: true, machines, alarms: [] });
    expect(Object.keys(s.machines)).toHaveLength(2000);
    expect(Object.keys(s.series)).toHaveLength(2000);
  });

  it("drops active alarms absent from a new snapshot (they cleared while disconnected)", () => {
    let s = feed(initialTwinState, {
      type: "snapshot",
      part: 0,
      last: true,
      machines: [ms("mill-01")],
      alarms: [alarm(1), alarm(2)],
    });
    s = feed(s, { type: "snapshot", part: 0, last: true, machines: [ms("mill-01")], alarms: [alarm(2)] });
    expect(Object.keys(s.alarms)).toEqual(["2"]);
  });

  it("merges a reading into the machine's values and its sparkline series", () => {
    let s = feed(initialTwinState, { type: "snapshot", part: 0, last: true, machines: [ms("mill-01")], alarms: [] });
    s = feed(s, {
      type: "reading",
      machine_id: "mill-01",
      ts: "2026-01-01T00:00:01Z",
      values: { vibration: 3, torque: 40 },
    });
    expect(s.machines["mill-01"]?.values).toEqual({ vibration: 3, torque: 40 });
    expect(s.machines["mill-01"]?.status).toBe("running");
    expect(s.series["mill-01"]?.vibration?.v).toEqual([2, 3]);
    expect(s.series["mill-01"]?.torque?.v).toEqual([40]);
  });

  it("ignores an out-of-order reading for the live values but keeps newer ones", () => {
    let s = feed(initialTwinState, {
      type: "snapshot",
      part: 0,
      last: true,
      machines: [ms("m", { values: {} })],
      alarms: [],
    });
    s = feed(s, { type: "reading", machine_id: "m", ts: "2026-01-01T00:00:05Z", values: { a: 5 } });
    s = feed(s, { type: "reading", machine_id: "m", ts: "2026-01-01T00:00:03Z", values: { a: 3 } });
    expect(s.machines.m?.values.a).toBe(5);
    expect(s.series.m?.a?.v).toEqual([5]);
  });

  it("does not duplicate a repeated instant in the series", () => {
    const r: ServerMessage = { type: "reading", machine_id: "m", ts: "2026-01-01T00:00:05Z", values: { a: 5 } };
    const s = feed(initialTwinState, r, r);
    expect(s.series.m?.a?.t.length).toBe(1);
  });

  it("caps sparkline series at SERIES_CAP points", () => {
    const msgs: ServerMessage[] = [];
    for (let i = 0; i < SERIES_CAP + 25; i++) {
      msgs.push({
        type: "reading",
        machine_id: "m",
        ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        values: { a: i },
      });
    }
    const s = feed(initialTwinState, ...msgs);
    expect(s.series.m?.a?.v.length).toBe(SERIES_CAP);
    expect(s.series.m?.a?.v.at(-1)).toBe(SERIES_CAP + 24);
  });

  it("applies a state message: status and health change, values merge", () => {
    let s = feed(initialTwinState, { type: "snapshot", part: 0, last: true, machines: [ms("mill-01")], alarms: [] });
    s = feed(s, {
      type: "state",
      state: ms("mill-01", { status: "stopped", health: 42, values: { torque: 1 }, values_ts: "2026-01-01T00:00:02Z" }),
    });
    expect(s.machines["mill-01"]).toMatchObject({ status: "stopped", health: 42, values: { vibration: 2, torque: 1 } });
  });

  it("upserts alarms and refuses to let an older update undo an acknowledgement", () => {
    let s = feed(initialTwinState, { type: "alarm", alarm: alarm(7) });
    s = twinReducer(s, {
      type: "alarm/updated",
      alarm: alarm(7, { state: "active_ack", updated_at: "2026-01-01T00:01:00Z" }),
    });
    s = feed(s, { type: "alarm", alarm: alarm(7, { updated_at: "2026-01-01T00:00:30Z" }) });
    expect(s.alarms[7]?.state).toBe("active_ack");
  });

  it("keeps events newest first, without duplicates", () => {
    const ev = (id: number, ts: string): MachineEvent => ({
      id,
      machine_id: "m",
      ts,
      kind: "status",
      message: `e${id}`,
    });
    let s = feed(initialTwinState, { type: "event", event: ev(1, "2026-01-01T00:00:01Z") });
    s = twinReducer(s, {
      type: "events/loaded",
      machineId: "m",
      events: [ev(2, "2026-01-01T00:00:02Z"), ev(1, "2026-01-01T00:00:01Z")],
    });
    expect(s.events.m?.map((e) => e.id)).toEqual([2, 1]);
  });

  it("keeps a reading of a machine not in the snapshot for its sparklines only", () => {
    const s = feed(initialTwinState, {
      type: "reading",
      machine_id: "x",
      ts: "2026-01-01T00:00:05Z",
      values: { a: 5 },
    });
    expect(s.machines.x).toBeUndefined();
    expect(s.series.x?.a?.v).toEqual([5]);
  });

  it("stores predictions by the message's machine", () => {
    const s = feed(initialTwinState, { type: "prediction", machine_id: "m", prediction: prediction(0.3) });
    expect(s.predictions.m?.probability).toBe(0.3);
  });

  it("remembers the server's error message", () => {
    const s = feed(initialTwinState, { type: "error", detail: "machines: unknown machine ids 'x'" });
    expect(s.serverError).toEqual({ detail: "machines: unknown machine ids 'x'", at: 1000 });
  });

  it("tracks the connection status and resets the attempt counter when open", () => {
    let s = twinReducer(initialTwinState, { type: "ws/status", status: "reconnecting", attempt: 3 });
    expect(s).toMatchObject({ connection: "reconnecting", reconnectAttempt: 3 });
    s = twinReducer(s, { type: "ws/status", status: "open" });
    expect(s).toMatchObject({ connection: "open", reconnectAttempt: 0 });
  });

  it("never mutates its input", () => {
    const before = feed(initialTwinState, {
      type: "snapshot",
      part: 0,
      last: true,
      machines: [ms("m")],
      alarms: [alarm(1)],
    });
    const frozen = JSON.stringify(before);
    feed(
      before,
      { type: "reading", machine_id: "m", ts: "2026-01-01T00:00:09Z", values: { vibration: 9 } },
      { type: "alarm", alarm: alarm(1, { state: "cleared_unack", updated_at: "2026-01-01T00:02:00Z" }) },
    );
    expect(JSON.stringify(before)).toBe(frozen);
  });
});

describe("what-if job messages", () => {
  it("keep each job's newest state by id", () => {
    const msg = (state: "queued" | "running" | "failed", progress: number): ServerMessage => ({
      type: "scenario",
      job_id: "abc",
      state,
      progress,
      message: state === "failed" ? "boom" : "",
      names: ["a"],
      updated_at: "2026-01-01T00:00:00Z",
    });
    let s: TwinState = initialTwinState;
    s = twinReducer(s, { type: "ws/message", message: msg("queued", 0), receivedAt: 1 });
    s = twinReducer(s, { type: "ws/message", message: msg("running", 0.5), receivedAt: 2 });
    expect(s.scenarios.abc?.progress).toBe(0.5);
    s = twinReducer(s, { type: "ws/message", message: msg("failed", 0.5), receivedAt: 3 });
    expect(s.scenarios.abc?.state).toBe("failed");
  });
});
