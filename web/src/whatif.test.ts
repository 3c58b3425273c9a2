import { describe, expect, it } from "vitest";
import {
  defaultWorking,
  differenceVerdict,
  emptyPlan,
  extent,
  planBody,
  requestBody,
  stateLabel,
  toggleWeekday,
} from "./whatif";

describe("what-if plans", () => {
  it("turns hours into seconds after the start and a line target into a line", () => {
    const d = emptyPlan(" slow A ");
    d.speeds.push({ target: "line:A", pct: 80, fromH: 1, toH: null });
    d.visits.push({ action: "remove", machine: "mill-01", atH: 5, hours: 4 });
    d.outages.push({ machine: "press-01", fromH: 0, toH: 2 });
    const body = planBody(d);
    expect(body.name).toBe("slow A");
    expect(body.speeds?.[0]).toEqual({ line: "A", machine_id: null, speed_pct: 80, start: 3600, end: null });
    expect(body.visits?.[0]?.at).toBeNull();
    expect(body.out_of_service?.[0]).toEqual({ machine_id: "press-01", start: 0, end: 7200 });
    expect(requestBody([d], 6, 4, 0)).toMatchObject({ horizon_h: 6, runs: 4, seed: 0 });
    expect(body.working_hours).toBeNull(); // around the clock
  });

  it("sends each visit's hours and the working hours", () => {
    const d = emptyPlan("shift");
    d.visits.push({ action: "add", machine: "mill-01", atH: 3, hours: 1.5 });
    d.working = { ...defaultWorking(), weekdays: toggleWeekday(toggleWeekday([0, 1, 2, 3, 4], 2), 6) };
    const body = planBody(d);
    expect(body.visits?.[0]).toEqual({ action: "add", machine_id: "mill-01", at: 10800, hours: 1.5 });
    expect(body.working_hours).toEqual({ from_hour: 6, to_hour: 22, weekdays: [0, 1, 3, 4, 6] });
  });

  it("never says done of a job that is not", () => {
    expect(stateLabel({ state: "queued", progress: 0 })).toBe("pending (queued)");
    expect(stateLabel({ state: "running", progress: 0.42 })).toBe("running 42 %");
    expect(stateLabel({ state: "failed", progress: 0.5 })).toBe("failed");
  });

  it("spans the intervals from zero and tells a clear difference from an unclear one", () => {
    expect(extent([{ mean: 2, low: 1, high: 3 }])[0]).toBe(0);
    expect(extent([])).toEqual([0, 1]);
    expect(differenceVerdict({ low: -2, high: -1 })).toBe("lower");
    expect(differenceVerdict({ low: -1, high: 1 })).toBe("unclear");
  });
});

describe("fan columns", () => {
  it("start every total at zero and give each scenario p10, p50, p90", async () => {
    const { fanColumns } = await import("./views/whatif/FanChart");
    const band = { p10: [1, 2], p50: [2, 3], p90: [3, 4] };
    const fan = { t_h: [1, 2], failures: band, downtime_h: band, output_h: band, maintenance_cost: band };
    const cols = fanColumns([{ fan }, { fan }], "failures");
    expect(cols.length).toBe(7);
    expect(cols[0]).toEqual([0, 1, 2]);
    expect(cols[2]).toEqual([0, 2, 3]);
  });
});
