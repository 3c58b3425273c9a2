import { describe, expect, it } from "vitest";
import { parseServerMessage } from "./messages";

describe("parseServerMessage", () => {
  it("parses a reading from text as the server sent it", () => {
    const m = parseServerMessage('{"type":"reading","machine_id":"m","ts":"2026-01-01T00:00:00Z","values":{"a":1}}');
    expect(m).toEqual({ type: "reading", machine_id: "m", ts: "2026-01-01T00:00:00Z", values: { a: 1 } });
  });

  it("returns null for invalid JSON, unknown types and messages without their body", () => {
    expect(parseServerMessage("{not json")).toBeNull();
    expect(parseServerMessage({ type: "gossip" })).toBeNull();
    expect(parseServerMessage({ type: "state" })).toBeNull();
    expect(parseServerMessage({ type: "toString", toString: 1 })).toBeNull();
    expect(parseServerMessage(42)).toBeNull();
  });

  it("passes the server's error message through", () => {
    expect(parseServerMessage({ type: "error", detail: "machines: unknown machine ids 'x'" })).toEqual({
      type: "error",
      detail: "machines: unknown machine ids 'x'",
    });
  });
});
