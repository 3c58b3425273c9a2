import { afterEach, describe, expect, it } from "vitest";
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
  fromWallTime,
  healthColor,
  plantZoneName,
  setPlantZone,
  wallTime,
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
    expect(formatHours(95.6)).toBe("4 d");
    expect(formatHours(71.4)).toBe("2 d 23 h");
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

describe("the plant's time zone", () => {
  afterEach(() => setPlantZone(null));

  it("shows every time in the plant's zone, whatever the browser's", () => {
    const at = Date.UTC(2026, 11, 2, 23, 30, 5); // 23:30:05 UTC
    setPlantZone("Asia/Kolkata"); // UTC+05:30: already the next day there
    expect(plantZoneName()).toBe("Asia/Kolkata");
    expect(formatClock(at)).toBe("05:00:05");
    expect(formatTime(new Date(at).toISOString(), new Date(Date.UTC(2026, 11, 3, 2)))).toBe("05:00:05");
    expect(formatTime(new Date(at).toISOString(), new Date(Date.UTC(2026, 11, 2, 12)))).toBe("03 Dec 05:00:05");
    setPlantZone("America/Chicago"); // UTC-06:00 in December
    expect(formatClock(at)).toBe("17:30:05");
  });

  it("turns the plant's wall time back into the instant, across daylight-saving changes", () => {
    setPlantZone("Europe/Berlin");
    const summer = Date.UTC(2026, 6, 1, 10, 0, 0); // 12:00 CEST
    expect(wallTime(summer)).toMatchObject({ hour: 12, minute: 0 });
    expect(fromWallTime(wallTime(summer))).toBe(summer);
    const winter = Date.UTC(2026, 11, 1, 10, 0, 0); // 11:00 CET
    expect(fromWallTime({ year: 2026, month: 12, day: 1, hour: 11, minute: 0, second: 0 })).toBe(winter);
    // 02:30 on 29 March 2026 does not exist in Berlin (clocks jump 02:00 -> 03:00): an instant an hour on
    const gap = fromWallTime({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 });
    expect(formatClock(gap)).toMatch(/^0[13]:30:00$/);
  });
});
