import { describe, expect, it } from "vitest";
import { approach, visualSpin } from "./live";

describe("animation helpers", () => {
  it("eases towards the target without overshooting", () => {
    expect(approach(0, 10, 0.1, 1.5)).toBeCloseTo(1.5);
    expect(approach(0, 10, 5, 1.5)).toBe(10);
  });

  it("spins faster with rpm and not at all at standstill", () => {
    expect(visualSpin(0)).toBe(0);
    expect(visualSpin(3000)).toBeGreaterThan(visualSpin(1500));
  });
});
