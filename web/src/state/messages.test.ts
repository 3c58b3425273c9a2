import { describe, expect, it } from "vitest";
import { parseServerMessage } from "./messages";

describe("parseServerMessage", () => {
  it("parses a reading from text and drops non-numeric values", () => {
    const m = parseServerMessage(
      '{"type":"reading","machine_id":"m","ts":"2026-01-01T00:00:00Z","values":{"a":1,"b":"x","c":null}}',
    );
    expect(m).toEqual({ type: "reading", machine_id: "m", ts: "2026-01-01T00:00:00Z", values: { a: 1 } });
  });

  it("returns null for invalid JSON, unknown types and malformed bodies", () => {
    expect(parseServerMessage("{not json")).toBeNull();
    expect(parseServerMessage({ type: "gossip" })).toBeNull();
    expect(parseServerMessage({ type: "state" })).toBeNull();
    expect(parseServerMessage({ type: "alarm", alarm: { machine_id: "m" } })).toBeNull();
    expect(parseServerMessage(42)).toBeNull();
  });

  it("takes a prediction's machine id from the message when the prediction lacks it", () => {
    const m = parseServerMessage({ type: "prediction", machine_id: "m", prediction: { failure_probability: 0.2 } });
    expect(m).toEqual({ type: "prediction", prediction: { machine_id: "m", failure_probability: 0.2 } });
  });

  it("filters malformed machines out of a snapshot and tolerates missing alarms", () => {
    const m = parseServerMessage({ type: "snapshot", machines: [{ machine_id: "m", status: "idle" }, { nope: 1 }] });
    expect(m?.type).toBe("snapshot");
    if (m?.type === "snapshot") {
      expect(m.machines).toHaveLength(1);
      expect(m.alarms).toEqual([]);
    }
  });
});
