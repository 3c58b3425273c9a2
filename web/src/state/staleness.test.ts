import { describe, expect, it } from "vitest";
import type { MachineState } from "../api/types";
import { OFFLINE_AFTER_S, readingAgeS, readingFreshness, streamStaleness } from "./staleness";

const T0 = Date.parse("2026-12-02T10:00:00Z");

const machine = (last_seen: string | null, values_ts: string | null = null): MachineState => ({
  machine_id: "m",
  profile: "pump",
  status: "running",
  health: 90,
  last_seen,
  values: {},
  values_ts,
  failure_probability: null,
  failure_mode: null,
  speed_pct: 100,
});

describe("streamStaleness", () => {
  it("is fresh while the stream is open, however old the last message", () => {
    expect(streamStaleness("open", T0, T0 + 120_000)).toEqual({ stale: false, asOf: T0, ageS: 120 });
  });

  it("is stale as soon as the stream is down, as of the last message, with its age", () => {
    expect(streamStaleness("reconnecting", T0, T0 + 42_500)).toEqual({ stale: true, asOf: T0, ageS: 42.5 });
    expect(streamStaleness("connecting", T0, T0 + 1_000).stale).toBe(true);
  });

  it("is not stale before any data arrived (there is nothing on screen to be stale)", () => {
    expect(streamStaleness("connecting", null, T0)).toEqual({ stale: false, asOf: null, ageS: null });
  });

  it("never reports a negative age when the clock is behind the last message", () => {
    expect(streamStaleness("reconnecting", T0, T0 - 5_000).ageS).toBe(0);
  });
});

describe("readingAgeS", () => {
  it("counts from when the twin last heard from the machine", () => {
    expect(readingAgeS(machine("2026-12-02T09:59:48Z", "2026-12-02T09:59:40Z"), T0)).toBe(12);
  });

  it("falls back to the values' time, and is null for a machine never heard from", () => {
    expect(readingAgeS(machine(null, "2026-12-02T09:59:30Z"), T0)).toBe(30);
    expect(readingAgeS(machine(null), T0)).toBeNull();
    expect(readingAgeS(undefined, T0)).toBeNull();
    expect(readingAgeS(machine("not a time"), T0)).toBeNull();
  });
});

describe("readingFreshness", () => {
  it("turns late exactly at the offline threshold", () => {
    expect(readingFreshness(OFFLINE_AFTER_S - 0.1)).toBe("ok");
    expect(readingFreshness(OFFLINE_AFTER_S)).toBe("late");
    expect(readingFreshness(5, 4)).toBe("late");
    expect(readingFreshness(null)).toBe("never");
  });
});
