import { describe, expect, it } from "vitest";
import type { FactoryLayout } from "./api/types";
import {
  breadcrumb,
  bucketSeries,
  causeLabel,
  DEFAULT_KPI_STATE,
  formatKpiQuery,
  KPI_GROUPS,
  KPI_RANGES,
  kpiHash,
  kpiQuery,
  noProduction,
  pareto,
  parseKpiPath,
  parseKpiQuery,
  PLANT,
  sixBigLosses,
  trendColumns,
  type DowntimeCause,
  type KpiFigures,
} from "./kpis";

function figures(over: Partial<KpiFigures> = {}): KpiFigures {
  return {
    start: "2026-01-01T06:00:00Z",
    end: "2026-01-01T14:00:00Z",
    range_s: 28800,
    planned_stop_s: 1800,
    unknown_s: 0,
    planned_s: 27000,
    run_s: 24000,
    downtime_s: 3000,
    availability: 24000 / 27000,
    performance: 0.9,
    quality: 0.95,
    oee: (24000 / 27000) * 0.9 * 0.95,
    parts_total: 100,
    parts_good: 95,
    parts_bad: 5,
    performance_loss_s: 2400,
    quality_loss_s: 1080,
    failures: 2,
    alarms: 3,
    mtbf_s: 12000,
    mttr_s: 900,
    downtime: [],
    notes: [],
    ...over,
  };
}

const cause = (c: string, seconds: number, category: DowntimeCause["category"] = "failure"): DowntimeCause => ({
  cause: c,
  category,
  seconds,
  stops: 1,
});

describe("pareto", () => {
  it("sorts causes largest first with their share and cumulative share", () => {
    const bars = pareto([
      cause("idle", 100, "idle"),
      cause("failure:bearing", 600),
      cause("stop:command", 300, "stop"),
    ]);
    expect(bars.map((b) => b.cause)).toEqual(["failure:bearing", "stop:command", "idle"]);
    expect(bars.map((b) => b.share)).toEqual([0.6, 0.3, 0.1]);
    expect(bars[0]?.cumulative).toBeCloseTo(0.6);
    expect(bars[1]?.cumulative).toBeCloseTo(0.9);
    expect(bars[2]?.cumulative).toBe(1);
  });

  it("breaks ties by name and leaves out causes of no time", () => {
    const bars = pareto([cause("b", 50), cause("a", 50), cause("zero", 0), cause("nan", Number.NaN)]);
    expect(bars.map((b) => b.cause)).toEqual(["a", "b"]);
    expect(bars.map((b) => b.cumulative)).toEqual([0.5, 1]);
  });

  it("is empty without downtime", () => {
    expect(pareto([])).toEqual([]);
    expect(pareto([cause("x", 0)])).toEqual([]);
  });

  it("labels causes readably", () => {
    expect(causeLabel("failure:tool_wear")).toBe("failure · tool wear");
    expect(causeLabel("idle")).toBe("idle");
  });
});

describe("drill-down path", () => {
  it("parses the parts after #/kpis", () => {
    expect(parseKpiPath([])).toEqual({ scope: "plant" });
    expect(parseKpiPath(["line", "line-a"])).toEqual({ scope: "line", id: "line-a" });
    expect(parseKpiPath(["machine", "mill-01"])).toEqual({ scope: "machine", id: "mill-01" });
    expect(parseKpiPath(["machine"])).toEqual({ scope: "plant" });
    expect(parseKpiPath(["plant", "x"])).toEqual({ scope: "plant" });
  });

  it("writes hashes", () => {
    expect(kpiHash({ scope: "plant" })).toBe("#/kpis");
    expect(kpiHash({ scope: "machine", id: "mill 1" })).toBe("#/kpis/machine/mill%201");
  });

  const layout = {
    name: "Demo plant",
    lines: [{ id: "line-a", name: "Line A" }],
    machines: [
      { id: "mill-01", name: "CNC Mill 1", line: "line-a" },
      { id: "pump-01", name: "Pump 1", line: null },
    ],
  } as unknown as FactoryLayout;

  it("names the breadcrumb plant › line › machine from the layout", () => {
    expect(breadcrumb({ scope: "plant" }, layout).map((c) => c.label)).toEqual(["Demo plant"]);
    expect(breadcrumb({ scope: "line", id: "line-a" }, layout).map((c) => c.label)).toEqual(["Demo plant", "Line A"]);
    const m = breadcrumb({ scope: "machine", id: "mill-01" }, layout);
    expect(m.map((c) => c.label)).toEqual(["Demo plant", "Line A", "CNC Mill 1 (mill-01)"]);
    expect(m[1]?.path).toEqual({ scope: "line", id: "line-a" });
    expect(m[0]?.path).toEqual({ scope: "plant" });
    expect(breadcrumb({ scope: "machine", id: "pump-01" }, layout).map((c) => c.label)).toEqual([
      "Demo plant",
      "Pump 1 (pump-01)",
    ]);
    expect(breadcrumb({ scope: "line", id: "gone" }, layout).map((c) => c.label)).toEqual(["Demo plant", "gone"]);
  });

  it("builds the query of the report and the export", () => {
    const from = new Date("2026-01-01T00:00:00Z");
    const to = new Date("2026-01-02T00:00:00Z");
    expect(kpiQuery({ scope: "plant" }, from, to, "shift").toString()).toBe(
      "scope=plant&from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00.000Z&group=shift",
    );
    expect(kpiQuery({ scope: "line", id: "line-a" }, from, to, "hour").get("id")).toBe("line-a");
  });
});

describe("bucket series", () => {
  const buckets = [
    figures({ start: "2026-01-01T06:00:00Z", oee: 0.5, availability: 0.8 }),
    figures({ start: "2026-01-01T14:00:00Z", oee: null, performance: null }),
    figures({ start: "not a time" }),
  ];

  it("gives epoch seconds of each bucket's start and nulls for unknown figures", () => {
    const [t, v] = bucketSeries(buckets, "oee");
    expect(t).toEqual([Date.parse("2026-01-01T06:00:00Z") / 1000, Date.parse("2026-01-01T14:00:00Z") / 1000]);
    expect(v).toEqual([0.5, null]);
    expect(bucketSeries(buckets, "failures")[1]).toEqual([2, 2]);
  });

  it("gives the trend in percent", () => {
    const [t, oee, a, p] = trendColumns(buckets);
    expect(t).toHaveLength(2);
    expect(oee).toEqual([50, null]);
    expect(a?.[0]).toBeCloseTo(80);
    expect(p).toEqual([90, null]);
  });

  it("tells no production from measured zero", () => {
    expect(noProduction(null)).toBe(true);
    expect(noProduction(figures({ planned_s: 0 }))).toBe(true);
    expect(noProduction(figures({ availability: 0, run_s: 0 }))).toBe(false);
  });
});

describe("six big losses", () => {
  it("splits availability loss by cause and keeps merged figures as one row each", () => {
    const losses = sixBigLosses(
      figures({
        downtime: [
          cause("failure:bearing", 1000),
          cause("stop:changeover", 600, "stop"),
          cause("maintenance:preventive", 400, "maintenance"),
          cause("idle", 1000, "idle"),
        ],
      }),
    );
    const by = Object.fromEntries(losses.map((l) => [l.key, l.seconds]));
    expect(by).toEqual({ breakdowns: 1000, setup: 600, "other-stops": 1400, speed: 2400, defects: 1080 });
  });

  it("says why a loss is unknown instead of showing zero", () => {
    const losses = sixBigLosses(figures({ performance_loss_s: null, quality_loss_s: null }));
    const speed = losses.find((l) => l.key === "speed");
    expect(speed?.seconds).toBeNull();
    expect(speed?.note).toMatch(/unknown/);
    expect(losses.find((l) => l.key === "defects")?.seconds).toBeNull();
  });
});

describe("the KPI view's state in the URL", () => {
  it("parses range and grouping, defaulting whatever is missing or wrong", () => {
    expect(parseKpiQuery("")).toEqual(DEFAULT_KPI_STATE);
    expect(parseKpiQuery("?range=7d&group=shift")).toEqual({ range: "7d", group: "shift" });
    expect(parseKpiQuery("group=day")).toEqual({ range: "24h", group: "day" });
    // a History range the KPI view does not offer, a grouping it has not, junk: the defaults
    expect(parseKpiQuery("range=6h&group=none")).toEqual(DEFAULT_KPI_STATE);
    expect(parseKpiQuery("range=%E0%A4%A&group=")).toEqual(DEFAULT_KPI_STATE);
    expect(parseKpiQuery("range=30d&range=7d")).toEqual({ range: "30d", group: "hour" }); // the first wins
  });

  it("writes the non-default parts in a fixed order and round-trips every selection", () => {
    expect(formatKpiQuery(DEFAULT_KPI_STATE)).toBe("");
    expect(formatKpiQuery({ group: "shift", range: "24h" })).toBe("?group=shift");
    expect(formatKpiQuery({ group: "day", range: "30d" })).toBe("?range=30d&group=day");
    for (const range of KPI_RANGES)
      for (const group of KPI_GROUPS) expect(parseKpiQuery(formatKpiQuery({ range, group }))).toEqual({ range, group });
  });

  it("carries the selection through the drill-down's links", () => {
    expect(kpiHash({ scope: "line", id: "line a" }, { range: "7d", group: "day" })).toBe(
      "#/kpis/line/line%20a?range=7d&group=day",
    );
    expect(kpiHash(PLANT)).toBe("#/kpis");
  });
});
