import { describe, expect, it } from "vitest";
import { alarmValueUnit } from "./OverviewView";

describe("alarm values", () => {
  it("reads a rate alarm's value per second", () => {
    expect(alarmValueUnit("rate:oil_temp", "K")).toBe("K/s");
    expect(alarmValueUnit("high:oil_temp", "K")).toBe("K");
    expect(alarmValueUnit("offline", undefined)).toBe("");
  });
});
