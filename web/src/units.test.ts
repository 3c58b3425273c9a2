import { afterEach, describe, expect, it } from "vitest";
import { displayUnit, loadUnitPrefs, NO_PREFS, setUnitPrefs, toDisplay, unitPrefs } from "./units";

describe("unit display preferences", () => {
  afterEach(() => setUnitPrefs(NO_PREFS, null));

  it("convert temperatures between K, °C and °F", () => {
    const c = { temperature: "°C", pressure: null } as const;
    expect(displayUnit("K", c)).toBe("°C");
    expect(toDisplay(300, "K", c)).toBeCloseTo(26.85, 10);
    expect(toDisplay(100, "°C", { temperature: "°F", pressure: null })).toBeCloseTo(212, 10);
    expect(toDisplay(32, "°F", { temperature: "K", pressure: null })).toBeCloseTo(273.15, 10);
  });

  it("convert pressures between bar, psi and kPa, and leave every other unit alone", () => {
    const psi = { temperature: null, pressure: "psi" } as const;
    expect(displayUnit("bar", psi)).toBe("psi");
    expect(toDisplay(1, "bar", psi)).toBeCloseTo(14.5038, 4);
    expect(toDisplay(250, "kPa", { temperature: null, pressure: "bar" })).toBeCloseTo(2.5, 10);
    expect(displayUnit("rpm", psi)).toBe("rpm");
    expect(toDisplay(1500, "rpm", psi)).toBe(1500);
    expect(toDisplay(300, "K", NO_PREFS)).toBe(300);
  });

  it("are saved and read back, and a damaged entry means none", () => {
    const saved = new Map<string, string>();
    const storage = {
      getItem: (k: string) => saved.get(k) ?? null,
      setItem: (k: string, v: string) => saved.set(k, v),
    };
    setUnitPrefs({ temperature: "°F", pressure: "kPa" }, storage);
    expect(loadUnitPrefs(storage)).toEqual({ temperature: "°F", pressure: "kPa" });
    saved.set("ft.units", '{"temperature":"furlongs"}');
    expect(loadUnitPrefs(storage)).toEqual(NO_PREFS);
    saved.set("ft.units", "not json");
    expect(loadUnitPrefs(storage)).toEqual(NO_PREFS);
    expect(unitPrefs()).toEqual(NO_PREFS);
  });
});
