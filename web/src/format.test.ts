import { describe, expect, it } from "vitest";
import {
  bandPosition,
  formatAgeS,
  formatAgo,
  formatClock,
  formatHours,
  formatPercent,
  formatTime,
  formatUnit,
  formatValue,
  healthColor,
  kelvinToCelsius,
} from "./format";

describe("format", () => {
  it("formats values with a precision that suits their magnitude", () => {
    expect(formatValue(1523.4, "rpm")).toBe("1,523 rpm");
    expect(formatValue(305.23, "K")).toBe("305.2 K");
    expect(formatValue(4.567, "mm/s")).toBe("4.57 mm/s");
    expect(formatValue(0.1234, "mm")).toBe("0.123 mm");
    expect(formatValue(null, "K")).toBe("—");
    expect(formatValue(Number.NaN)).toBe("—");
  });

  it("writes units as people do", () => {
    expect(formatUnit("m3/h")).toBe("m³/h");
    expect(formatUnit("1/min")).toBe("/min");
    expect(formatValue(80, "m3/h")).toBe("80.0 m³/h");
  });

  it("converts kelvin", () => {
    expect(kelvinToCelsius(273.15)).toBe(0);
  });

  it("says how long ago", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(formatAgo("2026-01-01T12:00:00Z", now)).toBe("just now");
    expect(formatAgo("2026-01-01T11:59:30Z", now)).toBe("30 s ago");
    expect(formatAgo("2026-01-01T11:00:00Z", now)).toBe("1 h ago");
    expect(formatAgo("2025-12-29T12:00:00Z", now)).toBe("3 d ago");
    expect(formatAgo(null, now)).toBe("never");
  });

  it("formats durations in hours", () => {
    expect(formatHours(0.5)).toBe("30 min");
    expect(formatHours(7.5)).toBe("7.5 h");
    expect(formatHours(30)).toBe("30 h");
    expect(formatHours(76)).toBe("3 d 4 h");
    expect(formatHours(undefined)).toBe("—");
  });

  it("formats percentages", () => {
    expect(formatPercent(0.756)).toBe("76 %");
    expect(formatPercent(0.756, 1)).toBe("75.6 %");
  });

  it("colours health from red to green", () => {
    expect(healthColor(0)).toBe("hsl(0, 75%, 50%)");
    expect(healthColor(100)).toBe("hsl(130, 75%, 50%)");
    expect(healthColor(null)).toBe("#64748b");
  });

  it("places a value against its normal band", () => {
    expect(bandPosition(1, 2, 3)).toBe("low");
    expect(bandPosition(2.5, 2, 3)).toBe("ok");
    expect(bandPosition(4, 2, 3)).toBe("high");
  });
});

describe("one 24-hour clock", () => {
  it("formats times as HH:MM:SS in 24 hours, with the date when not today", () => {
    const afternoon = new Date(2026, 11, 2, 16, 5, 9);
    expect(formatClock(afternoon.getTime())).toBe("16:05:09");
    expect(formatTime(afternoon.toISOString(), new Date(2026, 11, 2, 18))).toBe("16:05:09");
    expect(formatTime(afternoon.toISOString(), new Date(2026, 11, 3, 1))).toBe("02 Dec 16:05:09");
  });

  it("says how long ago in the largest whole unit", () => {
    expect(formatAgeS(0.5)).toBe("just now");
    expect(formatAgeS(42.9)).toBe("42 s ago");
    expect(formatAgeS(600)).toBe("10 min ago");
    expect(formatAgeS(-3)).toBe("just now");
  });
});
