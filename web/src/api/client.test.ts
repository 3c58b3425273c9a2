import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, errorMessage, normaliseHistory, mlEnabled, normaliseMachineState } from "./client";

function fakeFetch(status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}) {
  return async (url: string, init?: RequestInit): Promise<Response> => {
    seen.url = url;
    seen.init = init;
    return new Response(body === undefined ? "" : JSON.stringify(body), { status });
  };
}

describe("ApiClient", () => {
  it("posts commands as JSON with the issuer", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    await new ApiClient(fakeFetch(202, { ok: true }, seen)).command("mill-01", { command: "set_speed", speed_pct: 80 });
    expect(seen.url).toBe("/api/v1/machines/mill-01/commands");
    expect(seen.init?.method).toBe("POST");
    expect(JSON.parse(String(seen.init?.body))).toEqual({
      issued_by: "dashboard",
      command: "set_speed",
      speed_pct: 80,
    });
  });

  it("raises ApiError with the server's field message", async () => {
    const c = new ApiClient(fakeFetch(422, { detail: [{ loc: ["body", "speed_pct"], msg: "too big" }] }));
    await expect(c.command("m", { command: "set_speed", speed_pct: 500 })).rejects.toMatchObject({
      status: 422,
      message: "body.speed_pct: too big",
    });
  });

  it("passes a 'no_model' prediction through and fills in the machine id", async () => {
    const p = await new ApiClient(
      fakeFetch(200, { status: "no_model", machine_id: null, message: "train one" }),
    ).prediction("m");
    expect(p).toMatchObject({ status: "no_model", machine_id: "m" });
    await expect(new ApiClient(fakeFetch(503, { detail: "boom" })).prediction("m")).rejects.toBeInstanceOf(ApiError);
  });

  it("defaults the lists of a schedule", async () => {
    const s = await new ApiClient(fakeFetch(200, { status: "no_model", message: "x" })).schedule();
    expect(s).toMatchObject({ status: "no_model", tasks: [], policies: [] });
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
});

describe("normalisers", () => {
  it("reads history buckets in either naming and sorts them", () => {
    const h = normaliseHistory(
      {
        points: [
          { t: "2026-01-01T00:01:00Z", mean: 2, min: 1, max: 3, count: 4 },
          { ts: "2026-01-01T00:00:00Z", avg: 5 },
        ],
      },
      "m",
      "s",
      new Date(0),
      new Date(1000),
    );
    expect(h.start).toBe("1970-01-01T00:00:00.000Z");
    expect(h.buckets).toEqual([
      { ts: "2026-01-01T00:00:00Z", avg: 5, min: 5, max: 5, count: 1 },
      { ts: "2026-01-01T00:01:00Z", avg: 2, min: 1, max: 3, count: 4 },
    ]);
  });

  it("reads a machine list item with a nested state", () => {
    expect(
      normaliseMachineState({ id: "m", kind: "pump", state: { status: "idle", health: 77, values: { a: 1 } } }),
    ).toMatchObject({
      machine_id: "m",
      status: "idle",
      health: 77,
      values: { a: 1 },
    });
  });

  it("knows from /health whether the ML service runs", () => {
    expect(mlEnabled({ sections: { twin: {}, ml: { active_model: null } } })).toBe(true);
    expect(mlEnabled({ sections: { twin: {} } })).toBe(false);
    expect(mlEnabled(null)).toBe(false);
  });

  it("makes a readable error message", () => {
    expect(errorMessage({ detail: "nope" }, "x")).toBe("nope");
    expect(errorMessage("text", "fallback")).toBe("fallback");
  });
});
