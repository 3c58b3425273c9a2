import { describe, expect, it } from "vitest";
import type { Machine, SensorSpec } from "./api/types";
import { type ChartLine, lineColumns, lineLabel, normalBand, normaliser, scalesOf } from "./chartLines";
import { NO_PREFS } from "./units";

const SPEC: SensorSpec = {
  key: "spindle_temp",
  label: "Spindle temperature",
  unit: "°C",
  low: 0,
  high: 150,
  normal_low: 40,
  normal_high: 80,
  max_rate: null,
} as unknown as SensorSpec;
const FORCE: SensorSpec = { ...SPEC, key: "force", label: "Force", unit: "kN", normal_low: 100, normal_high: 300 };

function line(machine: string, spec: SensorSpec, avgs: number[]): ChartLine {
  const buckets = avgs.map((avg, i) => ({
    ts: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    min: avg,
    avg,
    max: avg,
    count: 1,
  }));
  return {
    id: `${machine}:${spec.key}`,
    machine,
    spec,
    band: [spec.normal_low, spec.normal_high],
    color: "#fff",
    series: {
      machine_id: machine,
      sensor: spec.key,
      unit: spec.unit,
      start: "",
      end: "",
      points: 1,
      bucketing: "exact",
      bucket_ms: 1,
      buckets,
    },
  } as ChartLine;
}

describe("the lines of the combined chart", () => {
  it("labels each series with its machine, sensor and unit", () => {
    expect(lineLabel(line("mill-03", SPEC, []), false, NO_PREFS)).toBe("mill-03 · Spindle temperature (°C)");
    expect(lineLabel(line("press-02", FORCE, []), true, NO_PREFS)).toBe("press-02 · Force (kN; 0 = 100.0, 1 = 300.0)");
  });

  it("uses a machine's own band over its profile's", () => {
    expect(normalBand(SPEC, undefined)).toEqual([40, 80]);
    const m = { id: "mill-09", bands: { spindle_temp: { normal_low: 50, normal_high: 90 } } } as unknown as Machine;
    expect(normalBand(SPEC, m)).toEqual([50, 90]);
    expect(normalBand(FORCE, m)).toEqual([100, 300]);
  });

  it("scales the band to 0..1, outside it beyond, and a band of no width by the series' range", () => {
    const f = normaliser([40, 80], []);
    expect([f(40), f(60), f(80), f(100)]).toEqual([0, 0.5, 1, 1.5]);
    const g = normaliser([5, 5], [10, 20, 30]);
    expect([g(10), g(30)]).toEqual([0, 1]);
    expect(normaliser([5, 5], [7, 7])(7)).toBe(0);
  });

  it("puts two machines of different units on one 0..1 scale in normalised mode, one axis per unit otherwise", () => {
    const lines = [line("mill-03", SPEC, [40, 80]), line("press-02", FORCE, [200, 400])];
    expect(lineColumns(lines[0]!, true, NO_PREFS)[1]).toEqual([0, 1]);
    expect(lineColumns(lines[1]!, true, NO_PREFS)[1]).toEqual([0.5, 1.5]);
    expect(lineColumns(lines[1]!, false, NO_PREFS)[1]).toEqual([200, 400]);
    expect(scalesOf(lines, true, NO_PREFS)).toEqual(["normal"]);
    expect(scalesOf(lines, false, NO_PREFS)).toEqual(["°C", "kN"]);
    expect(scalesOf([...lines, line("mill-01", SPEC, [])], false, NO_PREFS)).toEqual(["°C", "kN"]);
  });
});
