import { describe, expect, it } from "vitest";
import { setPlantZone } from "./format";
import {
  bucketCount,
  fromLocalInput,
  machineTimeNote,
  rangeBounds,
  timeAxisLabels,
  toColumns,
  toLocalInput,
} from "./history";

describe("history helpers", () => {
  it("computes relative ranges ending now", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    const [from, to] = rangeBounds("1h", 1, now);
    expect(to.toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(from.toISOString()).toBe("2026-01-01T11:00:00.000Z");
    expect(rangeBounds("7d", 1, now)[0].toISOString()).toBe("2025-12-25T12:00:00.000Z");
  });

  it("asks for about one bucket per two pixels, bounded", () => {
    expect(bucketCount(800)).toBe(400);
    expect(bucketCount(10)).toBe(20);
    expect(bucketCount(10_000)).toBe(1000);
  });

  it("turns buckets into uPlot columns in epoch seconds", () => {
    expect(
      toColumns([
        { ts: "2026-01-01T00:00:10Z", min: 1, avg: 2, max: 3, count: 5 },
        { ts: "bad", min: 0, avg: 0, max: 0, count: 0 },
      ]),
    ).toEqual([[Date.parse("2026-01-01T00:00:10Z") / 1000], [1], [2], [3]]);
  });

  it("draws each bucket at the middle of its part of the range, by the width the server says", () => {
    // aligned 15-minute buckets of 12:07:30..13:07:30: the first starts before the range, the last ends after it
    const frame = { start: "2026-03-01T12:07:30Z", end: "2026-03-01T13:07:30Z", bucket_ms: 15 * 60_000 };
    const at = (ts: string) => ({ ts, min: 0, avg: 1, max: 2, count: 1 });
    const [t] = toColumns(
      [at("2026-03-01T12:00:00Z"), at("2026-03-01T12:15:00Z"), at("2026-03-01T13:00:00Z")],
      undefined,
      frame,
    );
    expect(t.map((s) => new Date(s * 1000).toISOString().slice(11, 19))).toEqual(["12:11:15", "12:22:30", "13:03:45"]);
  });

  it("formats a datetime-local value", () => {
    expect(toLocalInput(new Date(2026, 0, 2, 3, 4))).toBe("2026-01-02T03:04");
  });
});

describe("timeAxisLabels", () => {
  it("labels the time axis in 24 hours, with seconds only below a minute and the date at a day change", () => {
    const t = (h: number, m: number, s = 0, d = 2): number => new Date(2026, 11, d, h, m, s).getTime() / 1000;
    expect(timeAxisLabels([t(13, 0), t(14, 0), t(15, 0)], 3600)).toEqual(["13:00", "14:00", "15:00"]);
    expect(timeAxisLabels([t(16, 5, 10), t(16, 5, 20)], 10)).toEqual(["16:05:10", "16:05:20"]);
    expect(timeAxisLabels([t(22, 0), t(0, 0, 0, 3)], 7200)).toEqual(["22:00", "03 Dec 00:00"]);
    expect(timeAxisLabels([t(0, 0), t(0, 0, 0, 3)], 86400)).toEqual(["02 Dec", "03 Dec"]);
  });
});

describe("custom range inputs on the plant's clock", () => {
  it("read and write datetime-local values in the plant's zone", () => {
    setPlantZone("Asia/Tokyo"); // UTC+9, no daylight saving
    const at = new Date(Date.UTC(2026, 0, 1, 15, 4));
    expect(toLocalInput(at)).toBe("2026-01-02T00:04");
    expect(fromLocalInput("2026-01-02T00:04")?.getTime()).toBe(at.getTime());
    expect(fromLocalInput("not a time")).toBeNull();
    setPlantZone(null);
  });
});

describe("relative ranges in the machines' time", () => {
  it("shrink the wall-clock span by the simulator's speed-up and say so", () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const [from, to] = rangeBounds("24h", 60, now);
    expect(to.getTime() - from.getTime()).toBe(24 * 60 * 1000); // 24 simulated hours = 24 wall minutes
    expect(rangeBounds("24h", 1, now)[0].getTime()).toBe(now - 86_400_000);
    expect(machineTimeNote("24h", 60)).toBe("machine time: 24 h = 24 min of wall clock (simulated time ×60)");
    expect(machineTimeNote("7d", 60)).toBe("machine time: 7 d = 2.8 h of wall clock (simulated time ×60)");
    expect(machineTimeNote("15m", 60)).toBe("machine time: 15 min = 15 s of wall clock (simulated time ×60)");
    expect(machineTimeNote("1h", 1)).toBeNull();
  });
});
