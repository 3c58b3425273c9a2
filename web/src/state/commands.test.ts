import { describe, expect, it } from "vitest";
import type { CommandResult, MachineEvent } from "../api/types";
import {
  ANSWER_TIMEOUT_MS,
  answered,
  availability,
  currentSetpoint,
  setpointOf,
  describeCommand,
  machineAnswer,
  requestFailed,
  resolve,
  sending,
} from "./commands";

const T0 = 1_000_000;

const result = (delivered: boolean, outcome: string, id = "c1"): CommandResult => ({
  command: {
    id,
    machine_id: "pump-02",
    ts: "2026-12-02T10:00:00Z",
    command: "set_speed",
    speed_pct: 60,
    issued_by: "dashboard",
  },
  delivered,
  outcome,
  event_id: 7,
  state: delivered ? "delivered" : "undelivered",
});

/** The machine's own log line about a command (sim/commands.py's apply_command). */
const answer = (commandId: string, accepted: boolean, message: string, extra: Record<string, unknown> = {}) =>
  ({
    id: 9,
    machine_id: "pump-02",
    ts: "2026-12-02T10:00:01Z",
    kind: "command",
    status: null,
    message,
    data: { command: "set_speed", accepted, issued_by: "dashboard", command_id: commandId, speed_pct: 60, ...extra },
  }) satisfies MachineEvent;

/** The twin's log line about a command it dispatched: not the machine's answer. */
const twinLine: MachineEvent = {
  id: 8,
  machine_id: "pump-02",
  ts: "2026-12-02T10:00:00Z",
  kind: "command",
  message: "set_speed 60 % by dashboard",
  data: { command: { id: "c1", command: "set_speed", speed_pct: 60 }, delivered: true },
};

describe("a command's life", () => {
  const sent = sending("set_speed", 60, T0);

  it("is pending while the request is out, then delivered while the machine has not answered", () => {
    expect(describeCommand(sent)).toEqual({ text: "Set speed 60 %: sending…", tone: "pending" });
    const d = answered(sent, result(true, "published to ft/pump-02/commands (QoS 1)"), T0 + 50);
    expect(d.phase).toBe("delivered");
    expect(resolve(d, [twinLine], T0 + 1000).phase).toBe("delivered");
    expect(describeCommand(d).tone).toBe("pending");
  });

  it("is applied only when the machine says it accepted that very command", () => {
    const d = answered(sent, result(true, "published"), T0);
    expect(resolve(d, [answer("other", true, "speed set to 60 % of nominal")], T0 + 10).phase).toBe("delivered");
    const done = resolve(d, [answer("c1", true, "speed set to 60 % of nominal"), twinLine], T0 + 10);
    expect(done.phase).toBe("applied");
    expect(describeCommand(done)).toEqual({
      text: "Set speed 60 %: applied (speed set to 60 % of nominal)",
      tone: "ok",
    });
  });

  it("is refused with the machine's reason, whether it answers later or during the request", () => {
    const start = sending("start", null, T0);
    const later = resolve(
      answered(start, result(true, "published"), T0),
      [answer("c1", false, "cannot start: the machine has failed and is being repaired", { command: "start" })],
      T0 + 10,
    );
    expect(later.phase).toBe("refused");
    expect(describeCommand(later).text).toBe(
      "Start: refused (cannot start: the machine has failed and is being repaired)",
    );
    const atOnce = answered(start, result(false, "refused by the in-process machine: cannot start: failed"), T0);
    expect(atOnce.phase).toBe("refused");
    expect(describeCommand(atOnce).tone).toBe("error");
    // the API's answer says the state and carries the machine's words: those are shown, once
    const inProcess = answered(
      start,
      {
        ...result(true, "refused by the in-process machine: cannot start: failed"),
        state: "refused",
        answer: "cannot start: failed",
      },
      T0,
    );
    expect(describeCommand(inProcess).text).toBe("Start: refused (cannot start: failed)");
  });

  it("is undelivered, never 'sent', when nothing received it", () => {
    const u = answered(sending("stop", null, T0), result(false, "no receiver: MQTT is not configured"), T0);
    expect(u.phase).toBe("undelivered");
    expect(describeCommand(u)).toEqual({
      text: "Stop: not delivered (no receiver: MQTT is not configured)",
      tone: "warn",
    });
    // a final phase is not changed by later events
    expect(resolve(u, [answer("c1", true, "stopped")], T0 + 10)).toBe(u);
  });

  it("fails when the request fails, and has no answer once the machine stays silent past the timeout", () => {
    expect(requestFailed(sent, "503 store overloaded").phase).toBe("failed");
    const d = answered(sent, result(true, "published"), T0);
    expect(resolve(d, [], T0 + ANSWER_TIMEOUT_MS - 1).phase).toBe("delivered");
    const silent = resolve(d, [], T0 + ANSWER_TIMEOUT_MS);
    expect(silent.phase).toBe("no_answer");
    expect(describeCommand(silent).tone).toBe("warn");
  });
});

describe("machineAnswer and currentSetpoint", () => {
  it("reads only the machine's answers, not the twin's own log lines", () => {
    expect(machineAnswer(twinLine)).toBeNull();
    expect(machineAnswer(answer("c1", true, "ok"))).toMatchObject({ commandId: "c1", accepted: true, speedPct: 60 });
  });

  it("is the newest accepted set_speed; a refused one does not count", () => {
    const events = [
      answer("c3", false, "refused", { speed_pct: 90 }),
      answer("c2", true, "speed set to 60 % of nominal"),
      answer("c1", true, "speed set to 80 % of nominal", { speed_pct: 80 }),
    ];
    expect(currentSetpoint(events)).toEqual({ pct: 60, ts: "2026-12-02T10:00:01Z" });
    expect(currentSetpoint([twinLine])).toBeNull();
  });

  it("reads the speed of the twin's own event of an in-process set_speed (the command inside its data)", () => {
    const inProcess: MachineEvent = {
      machine_id: "mill-01",
      ts: "2026-12-02T10:00:05Z",
      kind: "command",
      message: "set_speed 55 % by olga: applied by the in-process machine",
      data: { command: { command: "set_speed", speed_pct: 55 }, command_id: "c9", accepted: true },
    };
    expect(currentSetpoint([inProcess])).toEqual({ pct: 55, ts: "2026-12-02T10:00:05Z" });
  });
});

describe("setpointOf", () => {
  const logged = { pct: 60, ts: "2026-12-02T10:00:01Z" };

  it("is the twin's state, with the log's time only when the log says the same setpoint", () => {
    expect(setpointOf(60, logged)).toEqual(logged);
    expect(setpointOf(75, logged)).toEqual({ pct: 75, ts: null });
    expect(setpointOf(100, null)).toEqual({ pct: 100, ts: null });
  });

  it("falls back to the log while the state is not known, and is unknown without either", () => {
    expect(setpointOf(undefined, logged)).toEqual(logged);
    expect(setpointOf(undefined, null)).toBeNull();
  });
});

describe("availability", () => {
  const ctx = { status: "running" as const, stale: false, inFlight: null, setpoint: 60, speed: 80 };

  it("disables Start on a failed machine and says why", () => {
    expect(availability("start", { ...ctx, status: "failed" })).toEqual({
      enabled: false,
      reason: "the machine has failed: it can start once it is repaired",
    });
    expect(availability("stop", { ...ctx, status: "failed" }).enabled).toBe(true);
  });

  it("disables what would change nothing", () => {
    expect(availability("start", ctx).reason).toBe("already running");
    expect(availability("stop", { ...ctx, status: "stopped" }).reason).toBe("already stopped");
    expect(availability("maintain", { ...ctx, status: "maintenance" }).reason).toBe("already in maintenance");
    expect(availability("set_speed", { ...ctx, speed: 60 }).reason).toBe("already at 60 %");
    expect(availability("set_speed", ctx).enabled).toBe(true);
  });

  it("disables everything while a command is in flight, the machine is offline or the stream is down", () => {
    const inFlight = sending("stop", null, T0);
    expect(availability("start", { ...ctx, status: "stopped", inFlight }).reason).toBe(
      "waiting for the answer to Stop",
    );
    expect(availability("stop", { ...ctx, status: undefined }).reason).toMatch(/offline/);
    expect(availability("stop", { ...ctx, stale: true }).reason).toMatch(/stream is down/);
    const done = requestFailed(inFlight, "x");
    expect(availability("start", { ...ctx, status: "stopped", inFlight: done }).enabled).toBe(true);
  });
});
