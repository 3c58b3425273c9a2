import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, errorMessage, fill, mlEnabled } from "./client";
import type { CommandResult, Health } from "./types";

function fakeFetch(status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}) {
  return async (url: string, init?: RequestInit): Promise<Response> => {
    seen.url = url;
    seen.init = init;
    return new Response(body === undefined ? "" : JSON.stringify(body), { status });
  };
}

const health = (sections: Health["sections"]): Health => ({
  status: "ok",
  version: "0",
  backend: "sqlite",
  uptime_s: 1,
  machines: 16,
  store: {},
  ingest: {},
  sections,
});

describe("ApiClient", () => {
  it("sends the session's CSRF token with writes, never with reads", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const c = new ApiClient(fakeFetch(200, {}, seen), "/api/v1", () => "x=1; ft_csrf=tok");
    await c.ackAlarm(7);
    expect(seen.url).toBe("/api/v1/alarms/7/ack");
    expect(seen.init?.body).toBeUndefined();
    expect((seen.init?.headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok");
    await c.layout();
    expect((seen.init?.headers as Record<string, string>)["X-CSRF-Token"]).toBeUndefined();
  });

  it("tells the shell about a 401 so it can show the login form", async () => {
    const c = new ApiClient(fakeFetch(401, { detail: [{ loc: [], msg: "authentication required" }] }));
    let told = 0;
    c.onUnauthorized = () => (told += 1);
    await expect(c.layout()).rejects.toMatchObject({ status: 401 });
    expect(told).toBe(1);
  });

  it("posts commands as JSON with the issuer and returns the typed result", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const answer: CommandResult = {
      command: {
        id: "c1",
        machine_id: "mill-01",
        ts: "2026-01-01T00:00:00Z",
        command: "set_speed",
        speed_pct: 80,
        issued_by: "dashboard",
      },
      delivered: false,
      state: "undelivered",
      outcome: "no receiver",
      event_id: 3,
    };
    const result = await new ApiClient(fakeFetch(202, answer, seen)).command("mill-01", {
      command: "set_speed",
      speed_pct: 80,
    });
    expect(seen.url).toBe("/api/v1/machines/mill-01/commands");
    expect(seen.init?.method).toBe("POST");
    expect(JSON.parse(String(seen.init?.body))).toEqual({
      issued_by: "dashboard",
      command: "set_speed",
      speed_pct: 80,
    });
    expect(result.delivered).toBe(false);
    expect(result.outcome).toBe("no receiver");
  });

  it("raises ApiError with the server's field message", async () => {
    const c = new ApiClient(fakeFetch(422, { detail: [{ loc: ["body", "speed_pct"], msg: "too big" }] }));
    await expect(c.command("m", { command: "set_speed", speed_pct: 500 })).rejects.toMatchObject({
      status: 422,
      message: "body.speed_pct: too big",
    });
  });

  it("passes a 'no_model' prediction through as the server sent it", async () => {
    const body = { status: "no_model", machine_id: "m", message: "train one" };
    const p = await new ApiClient(fakeFetch(200, body)).prediction("m");
    expect(p).toEqual(body);
    await expect(new ApiClient(fakeFetch(503, { detail: "boom" })).prediction("m")).rejects.toBeInstanceOf(ApiError);
  });

  it("asks for bucketed history with from, to and points", async () => {
    const seen: { url?: string } = {};
    const c = new ApiClient(fakeFetch(200, { buckets: [] }, seen));
    await c.history("m", "vibration", new Date("2026-01-01T00:00:00Z"), new Date("2026-01-01T01:00:00Z"), 300);
    const u = new URL(seen.url!, "http://x");
    expect(u.pathname).toBe("/api/v1/machines/m/history");
    expect(Object.fromEntries(u.searchParams)).toEqual({
      sensor: "vibration",
      from: "2026-01-01T00:00:00.000Z",
      to: "2026-01-01T01:00:00.000Z",
      points: "300",
    });
  });

  it("knows from /health whether the ML service runs", () => {
    expect(mlEnabled(health({ twin: {}, ml: { active_model: null } }))).toBe(true);
    expect(mlEnabled(health({ twin: {} }))).toBe(false);
    expect(mlEnabled(null)).toBe(false);
  });

  it("makes a readable error message", () => {
    expect(errorMessage({ detail: "nope" }, "x")).toBe("nope");
    expect(errorMessage({ detail: [{ loc: [], msg: "the live twin is not running" }] }, "x")).toBe(
      "the live twin is not running",
    );
    expect(errorMessage("text", "fallback")).toBe("fallback");
  });

  it("fills a route of the schema with encoded parameters, and refuses a missing one", async () => {
    expect(fill("/api/v1/machines/{machine_id}/events", { machine_id: "a b/c" })).toBe(
      "/api/v1/machines/a%20b%2Fc/events",
    );
    expect(() => fill("/api/v1/alarms/{alarm_id}/ack", {})).toThrow("alarm_id");
    const seen: { url?: string } = {};
    await new ApiClient(fakeFetch(200, [], seen)).events("mill-01", 5);
    expect(seen.url).toBe("/api/v1/machines/mill-01/events?limit=5");
    await new ApiClient(fakeFetch(200, [], seen), "/proxy/v1").alarms({ state: "active_unack" });
    expect(seen.url).toBe("/proxy/v1/alarms?state=active_unack");
  });
});
