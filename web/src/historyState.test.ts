import { describe, expect, it } from "vitest";
import {
  DEFAULT_HISTORY_STATE,
  formatHistoryQuery,
  type HistoryState,
  MAX_EXTRA_SERIES,
  parseHistoryQuery,
  rangeKeyOf,
} from "./historyState";
import { parseRoute, routeHash } from "./route";

const FULL: HistoryState = {
  range: { kind: "absolute", from: new Date("2026-03-01T10:00:00.000Z"), to: new Date("2026-03-01T16:30:00.000Z") },
  sensors: ["spindle_temp", "vibration"],
  extra: [
    { machine: "press-02", sensor: "force" },
    { machine: "lathe.01", sensor: "spindle_temp" },
  ],
  mode: "normal",
  hidden: ["fault", "command"],
};

describe("the History view in the URL", () => {
  it("formats the defaults as nothing and parses nothing as the defaults", () => {
    expect(formatHistoryQuery(DEFAULT_HISTORY_STATE)).toBe("");
    expect(parseHistoryQuery("")).toEqual(DEFAULT_HISTORY_STATE);
    expect(parseHistoryQuery("?")).toEqual(DEFAULT_HISTORY_STATE);
  });

  it("round-trips a whole view, absolute or relative", () => {
    expect(parseHistoryQuery(formatHistoryQuery(FULL))).toEqual(FULL);
    const relative: HistoryState = { ...FULL, range: { kind: "relative", key: "6h" }, mode: "axes", sensors: [] };
    expect(parseHistoryQuery(formatHistoryQuery(relative))).toEqual(relative);
  });

  it("writes a readable, stable query of printable ASCII", () => {
    const q = formatHistoryQuery({ ...FULL, range: { kind: "relative", key: "6h" } });
    expect(q).toBe(
      "?range=6h&sensors=spindle_temp,vibration&add=press-02:force,lathe.01:spindle_temp&mode=normal&hide=fault,command",
    );
    expect(formatHistoryQuery({ ...FULL, hidden: ["command", "fault"] })).toBe(formatHistoryQuery(FULL)); // fixed order
    expect(formatHistoryQuery(FULL)).toMatch(/^[!-~]*$/);
  });

  it("takes epoch milliseconds as Grafana writes them", () => {
    const s = parseHistoryQuery("from=1772359200000&to=1772382600000");
    expect(s.range).toEqual(FULL.range);
  });

  it("ignores what it does not understand and keeps the rest", () => {
    const s = parseHistoryQuery(
      "range=5y&mode=3d&hide=fault,ufo&sensors=ok_one,Bad-Key,,ok_one&add=m1:s1,nocolon,:s,m1:s1,m 2:s,m3:BAD&zzz=1",
    );
    expect(s.range).toEqual({ kind: "relative", key: "1h" });
    expect(s.mode).toBe("separate");
    expect(s.hidden).toEqual(["fault"]);
    expect(s.sensors).toEqual(["ok_one"]);
    expect(s.extra).toEqual([{ machine: "m1", sensor: "s1" }]);
  });

  it("falls back to the relative range when from/to are bad, backwards or missing one end", () => {
    for (const q of [
      "from=2026-03-01T10:00:00Z&to=2026-03-01T09:00:00Z&range=24h",
      "from=yesterday&to=2026-03-01T09:00:00Z&range=24h",
      "from=2026-03-01T10:00:00Z&range=24h",
      "from=-5&to=99999999999999999&range=24h",
    ])
      expect(parseHistoryQuery(q).range).toEqual({ kind: "relative", key: "24h" });
  });

  it("never throws, whatever the text", () => {
    for (const q of ["%", "%%zz=%E0%A4%A", "add=%3A%3A%3A", "sensors=" + "a,".repeat(5000), "&&&=&=", "\u0000"])
      expect(() => parseHistoryQuery(q)).not.toThrow();
    expect(() => parseRoute("#/history/%E0%A4%A?range=6h")).not.toThrow();
  });

  it("caps the extra series", () => {
    const add = Array.from({ length: 20 }, (_, i) => `m${i}:s`).join(",");
    expect(parseHistoryQuery(`add=${add}`).extra).toHaveLength(MAX_EXTRA_SERIES);
  });

  it("gives equal ranges one key", () => {
    const a = parseHistoryQuery(formatHistoryQuery(FULL)).range;
    expect(rangeKeyOf(a)).toBe(rangeKeyOf(FULL.range));
    expect(rangeKeyOf({ kind: "relative", key: "6h" })).not.toBe(rangeKeyOf({ kind: "relative", key: "1h" }));
  });

  it("rides on the history route, and only there", () => {
    const hash = routeHash({ view: "history", machine: "mill-03", history: FULL });
    expect(hash.startsWith("#/history/mill-03?from=")).toBe(true);
    expect(parseRoute(hash)).toEqual({ view: "history", machine: "mill-03", history: FULL });
    expect(parseRoute("#/history/mill-03")).toEqual({ view: "history", machine: "mill-03" });
    expect(parseRoute("#/history?range=6h")).toEqual({
      view: "history",
      machine: null,
      history: { ...DEFAULT_HISTORY_STATE, range: { kind: "relative", key: "6h" } },
    });
    expect(parseRoute("#/floor/mill-03?range=6h")).toEqual({ view: "floor", machine: "mill-03" });
    expect(routeHash({ view: "floor", machine: "mill-03", history: FULL })).toBe("#/floor/mill-03");
  });
});
