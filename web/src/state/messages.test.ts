import { describe, expect, it } from "vitest";
import { parseServerFrame, parseServerMessage } from "./messages";

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

describe("parseServerFrame", () => {
  it("gives one message as a list of one, and a batch's messages in order", () => {
    const r = { type: "reading", machine_id: "m", ts: "2026-01-01T00:00:00Z", values: { a: 1 } };
    expect(parseServerFrame(JSON.stringify(r))).toEqual({ messages: [r], dropped: 0 });
    const s = { type: "state", state: { machine_id: "m" } };
    expect(parseServerFrame({ type: "batch", messages: [r, s] })).toEqual({ messages: [r, s], dropped: 0 });
  });

  it("leaves out a batch's items that are not messages, and is null for a frame that is neither", () => {
    const r = { type: "reading", machine_id: "m", ts: "2026-01-01T00:00:00Z", values: { a: 1 } };
    expect(parseServerFrame({ type: "batch", messages: [r, { type: "state" }, 3] })).toEqual({
      messages: [r],
      dropped: 2,
    });
    expect(parseServerFrame("{not json")).toBeNull();
    expect(parseServerFrame({ type: "batch" })).toBeNull();
    expect(parseServerFrame({ type: "gossip" })).toBeNull();
  });
});
