import { describe, expect, it } from "vitest";
import type { CommandResult } from "../api/types";
import { commandNotice } from "./commandNotice";

const result = (delivered: boolean, outcome: string): CommandResult => ({
  command: {
    id: "c1",
    machine_id: "pump-02",
    ts: "2026-01-01T00:00:00Z",
    command: "set_speed",
    speed_pct: 80,
    issued_by: "dashboard",
  },
  delivered,
  state: delivered ? "delivered" : "undelivered",
  outcome,
  event_id: 7,
});

describe("commandNotice", () => {
  it("says sent, in green, when the server delivered the command", () => {
    expect(commandNotice(result(true, "published"), "Pump 2")).toEqual({
      text: "set speed sent to Pump 2",
      tone: "ok",
    });
  });

  it("warns with the server's reason when the command was not delivered", () => {
    const notice = commandNotice(result(false, "no receiver: no MQTT broker and no in-process sink"), "Pump 2");
    expect(notice.tone).toBe("warn");
    expect(notice.text).toBe("set speed not delivered to Pump 2: no receiver: no MQTT broker and no in-process sink");
    expect(notice.text).not.toContain(" sent ");
  });
});
