import { describe, expect, it } from "vitest";
import { parseRoute, routeHash } from "./route";

describe("routes", () => {
  it("parses views and machines, defaulting to the floor", () => {
    expect(parseRoute("")).toEqual({ view: "floor", machine: null });
    expect(parseRoute("#/overview")).toEqual({ view: "overview", machine: null });
    expect(parseRoute("#/floor/mill-01")).toEqual({ view: "floor", machine: "mill-01" });
    expect(parseRoute("#/nonsense/x")).toEqual({ view: "floor", machine: "x" });
    expect(parseRoute("#/audit")).toEqual({ view: "audit", machine: null });
  });

  it("parses work orders: the list and one order by id", () => {
    expect(parseRoute("#/workorders")).toEqual({ view: "workorders", machine: null });
    expect(parseRoute("#/workorders/12")).toEqual({ view: "workorders", machine: null, order: 12 });
    expect(parseRoute("#/workorders/x")).toEqual({ view: "workorders", machine: null });
    expect(routeHash({ view: "workorders", machine: null, order: 7 })).toBe("#/workorders/7");
  });

  it("round-trips", () => {
    expect(parseRoute(routeHash({ view: "history", machine: "pump 1" }))).toEqual({
      view: "history",
      machine: "pump 1",
    });
  });

  it("parses the KPI drill-down: plant, line, machine", () => {
    expect(parseRoute("#/kpis")).toEqual({ view: "kpis", machine: null, kpi: { scope: "plant" } });
    expect(parseRoute("#/kpis/line/line-a")).toEqual({
      view: "kpis",
      machine: null,
      kpi: { scope: "line", id: "line-a" },
    });
    expect(parseRoute("#/kpis/machine/mill-01")).toEqual({
      view: "kpis",
      machine: "mill-01",
      kpi: { scope: "machine", id: "mill-01" },
    });
    // an incomplete or unknown scope is the plant, not a guess
    expect(parseRoute("#/kpis/line")).toEqual({ view: "kpis", machine: null, kpi: { scope: "plant" } });
    expect(parseRoute("#/kpis/cell/x")).toEqual({ view: "kpis", machine: null, kpi: { scope: "plant" } });
  });

  it("writes KPI hashes, encoding ids, and round-trips them", () => {
    expect(routeHash({ view: "kpis", machine: null })).toBe("#/kpis");
    expect(routeHash({ view: "kpis", machine: "mill-01" })).toBe("#/kpis/machine/mill-01");
    const line = { view: "kpis", machine: null, kpi: { scope: "line", id: "line a/b" } } as const;
    expect(routeHash(line)).toBe("#/kpis/line/line%20a%2Fb");
    expect(parseRoute(routeHash(line))).toEqual(line);
    // another view's machine carries over to the machine's KPIs, and back
    expect(parseRoute(routeHash({ ...parseRoute("#/kpis/machine/lathe-01"), view: "floor" }))).toEqual({
      view: "floor",
      machine: "lathe-01",
    });
  });

  it("keeps the KPI view's range and grouping in the hash, as the History view's state", () => {
    expect(parseRoute("#/kpis/line/line-a?range=7d&group=shift")).toEqual({
      view: "kpis",
      machine: null,
      kpi: { scope: "line", id: "line-a" },
      kpiState: { range: "7d", group: "shift" },
    });
    const machine = {
      view: "kpis",
      machine: "mill-01",
      kpi: { scope: "machine", id: "mill-01" },
      kpiState: { range: "30d", group: "day" },
    } as const;
    expect(routeHash(machine)).toBe("#/kpis/machine/mill-01?range=30d&group=day");
    expect(parseRoute(routeHash(machine))).toEqual(machine);
    // the defaults write no query
    expect(routeHash({ view: "kpis", machine: null, kpiState: { range: "24h", group: "hour" } })).toBe("#/kpis");
  });
});
