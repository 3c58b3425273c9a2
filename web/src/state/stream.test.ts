import { describe, expect, it } from "vitest";
import type { TwinAction } from "./reducer";
import { backoffDelay, StreamConnection, streamUrl, type SocketLike, type StreamDeps } from "./stream";

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readyState = 0;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({});
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { cb: () => void; ms: number; cleared: boolean }[] = [];
  const actions: TwinAction[] = [];
  const deps: StreamDeps = {
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimer: (cb, ms) => {
      const t = { cb, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
    now: () => 42,
    random: () => 0,
  };
  const conn = new StreamConnection("ws://x/api/v1/stream", (a) => actions.push(a), deps, {
    baseMs: 100,
    maxMs: 1000,
    jitter: 0.5,
  });
  const fire = () => {
    const t = timers.filter((x) => !x.cleared).shift();
    if (!t) throw new Error("no timer");
    t.cleared = true;
    t.cb();
  };
  return { conn, sockets, timers, actions, fire };
}

describe("backoffDelay", () => {
  it("doubles per attempt up to the cap", () => {
    const o = { baseMs: 500, maxMs: 15000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, o))).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
  });

  it("removes up to the jitter share at random", () => {
    expect(backoffDelay(1, { baseMs: 1000, maxMs: 10000, jitter: 0.3 }, () => 1)).toBe(700);
    expect(backoffDelay(1, { baseMs: 1000, maxMs: 10000, jitter: 0.3 }, () => 0)).toBe(1000);
  });
});

describe("streamUrl", () => {
  it("follows the page's scheme", () => {
    expect(streamUrl({ protocol: "http:", host: "h:1" })).toBe("ws://h:1/api/v1/stream?batch=true");
    expect(streamUrl({ protocol: "https:", host: "h" })).toBe("wss://h/api/v1/stream?batch=true");
  });
});

describe("StreamConnection", () => {
  it("dispatches parsed messages and counts malformed frames", () => {
    const h = harness();
    h.conn.start();
    h.sockets[0]!.open();
    h.sockets[0]!.onmessage?.({ data: '{"type":"alarm","alarm":{"id":1,"machine_id":"m"}}' });
    h.sockets[0]!.onmessage?.({ data: "garbage" });
    expect(h.actions.map((a) => a.type)).toEqual(["ws/status", "ws/status", "ws/message"]);
    expect(h.actions[2]).toMatchObject({ receivedAt: 42 });
    expect(h.conn.dropped).toBe(1);
  });

  it("dispatches every message of a batch frame in order, leaving out (and counting) what is not one", () => {
    const h = harness();
    h.conn.start();
    h.sockets[0]!.open();
    const reading = (m: string) => ({ type: "reading", machine_id: m, ts: "2026-01-01T00:00:00Z", values: { a: 1 } });
    const batch = { type: "batch", messages: [reading("a"), { type: "gossip" }, reading("b")] };
    h.sockets[0]!.onmessage?.({ data: JSON.stringify(batch) });
    const messages = h.actions.filter((a) => a.type === "ws/message");
    expect(
      messages.map((a) => (a.type === "ws/message" && a.message.type === "reading" ? a.message.machine_id : "")),
    ).toEqual(["a", "b"]);
    expect(messages.every((a) => a.type === "ws/message" && a.receivedAt === 42)).toBe(true);
    expect(h.conn.dropped).toBe(1);
  });

  it("reconnects with growing delays after drops and reports reconnecting, then open", () => {
    const h = harness();
    h.conn.start();
    h.sockets[0]!.drop();
    expect(h.actions.at(-1)).toEqual({ type: "ws/status", status: "reconnecting", attempt: 1 });
    expect(h.timers.at(-1)?.ms).toBe(100);
    h.fire();
    expect(h.sockets).toHaveLength(2);
    h.sockets[1]!.drop();
    expect(h.timers.at(-1)?.ms).toBe(200);
    h.fire();
    h.sockets[2]!.open();
    expect(h.actions.at(-1)).toEqual({ type: "ws/status", status: "open" });
    // After a successful open the back-off starts again from the base delay.
    h.sockets[2]!.drop();
    expect(h.timers.at(-1)?.ms).toBe(100);
  });

  it("re-sends the subscription after reconnecting", () => {
    const h = harness();
    h.conn.start();
    h.conn.subscribe(["mill-01"]);
    h.sockets[0]!.open();
    expect(h.sockets[0]!.sent).toEqual(['{"type":"subscribe","machines":["mill-01"]}']);
    h.sockets[0]!.drop();
    h.fire();
    h.sockets[1]!.open();
    expect(h.sockets[1]!.sent).toEqual(['{"type":"subscribe","machines":["mill-01"]}']);
  });

  it("stops for good: closes the socket and never reconnects", () => {
    const h = harness();
    h.conn.start();
    h.sockets[0]!.open();
    h.conn.stop();
    expect(h.sockets[0]!.closed).toBe(true);
    expect(h.timers.filter((t) => !t.cleared)).toHaveLength(0);
  });
});
