import { describe, expect, it } from "vitest";
import {
  clampVisitStart,
  dragTo,
  hourToX,
  pxPerHour,
  span,
  stepTo,
  ticks,
  timelineRows,
  xToHour,
} from "./planTimeline";
import { emptyPlan } from "./whatif";

describe("plan timeline", () => {
  it("maps hours to pixels and back", () => {
    const s = pxPerHour(168);
    expect(s).toBe(4);
    expect(pxPerHour(6)).toBe(60);
    expect(hourToX(10, s)).toBe(40);
    expect(xToHour(hourToX(37, s), s)).toBe(37);
  });

  it("snaps a dragged visit to whole hours and keeps it inside the horizon", () => {
    expect(dragTo(10, 9, 4, 4, 168)).toBe(12); // 2.25 h -> 2 h
    expect(dragTo(10, 11, 4, 4, 168)).toBe(13); // 2.75 h -> 3 h
    expect(dragTo(10, -400, 4, 4, 168)).toBe(0);
    expect(dragTo(10, 4000, 4, 4, 168)).toBe(164); // the 4 h visit ends at the horizon
    expect(clampVisitStart(3, 10, 6)).toBe(0); // longer than the horizon: at the start
    expect(clampVisitStart(Number.NaN, 4, 24)).toBe(0);
  });

  it("steps a visit an hour at a time from the nearest whole hour", () => {
    expect(stepTo(1, 1, 4, 168)).toBe(2);
    expect(stepTo(1.4, 1, 4, 168)).toBe(2);
    expect(stepTo(0, -1, 4, 168)).toBe(0);
    expect(stepTo(20, 1, 4, 24)).toBe(20);
  });

  it("ticks every day, and every few hours on a short horizon", () => {
    const week = ticks(168);
    expect(week.filter((t) => t.day).map((t) => t.label)).toEqual(["0 h", "d1", "d2", "d3", "d4", "d5", "d6", "d7"]);
    expect(ticks(6).map((t) => t.h)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(ticks(2160).length).toBe(91);
  });

  it("has a row per target the plan touches, then the added ones, each once", () => {
    const p = emptyPlan("x");
    p.visits.push({ action: "add", machine: "mill-01", atH: 1, hours: 4 });
    p.speeds.push({ target: "machine:press-01", pct: 80, fromH: 0, toH: null });
    p.speeds.push({ target: "line:A", pct: 50, fromH: 0, toH: null });
    p.outages.push({ machine: "mill-01", fromH: 0, toH: 2 });
    expect(timelineRows(p, ["machine:lathe-01", "line:A"])).toEqual([
      "line:A",
      "machine:press-01",
      "machine:mill-01",
      "machine:lathe-01",
    ]);
  });

  it("clips an interval to the horizon", () => {
    expect(span(2, null, 6)).toEqual([2, 6]);
    expect(span(-1, 10, 6)).toEqual([0, 6]);
    expect(span(7, null, 6)).toBeNull();
  });
});
