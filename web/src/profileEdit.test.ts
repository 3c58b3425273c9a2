import { describe, expect, it } from "vitest";
import { blankProfile, blankSensor, clientProblems, pathKey, problemsByPath } from "./profileEdit";

describe("profile editor checks", () => {
  it("keys the server's field paths without the body", () => {
    expect(pathKey(["body", "sensors", 2, "normal_high"])).toBe("sensors.2.normal_high");
    expect(
      problemsByPath([
        { loc: ["body", "id"], msg: "a" },
        { loc: ["body", "id"], msg: "b" },
      ]),
    ).toEqual({ id: "a; b" });
  });

  it("finds the obvious mistakes at the server's paths", () => {
    const p = { ...blankProfile(), id: "tank", name: "Tank" };
    expect(clientProblems(p)).toEqual({});
    const bad = { ...p, sensors: [blankSensor(1), { ...blankSensor(1), normal_high: 500 }] };
    expect(clientProblems(bad)).toEqual({
      "sensors.1.key": "duplicate key: also sensor 1",
      "sensors.1.normal_high": "above normal low, inside the physical range",
    });
    expect(clientProblems({ ...p, id: "" })).toHaveProperty("id");
  });
});
