// Unit display preferences: temperatures in K, °C or °F and pressures in bar, psi or kPa, whatever unit the
// sensor reports in. Stored in the browser (localStorage); values are converted for display only, the API and the
// store keep the sensor's own unit.

export type TemperatureUnit = "K" | "°C" | "°F";
export type PressureUnit = "bar" | "psi" | "kPa";

export interface UnitPrefs {
  /** null: as the sensor reports it. */
  temperature: TemperatureUnit | null;
  pressure: PressureUnit | null;
}

export const NO_PREFS: UnitPrefs = { temperature: null, pressure: null };
const STORAGE_KEY = "ft.units";

// Each unit as (scale, offset) to a base unit: base = value * scale + offset (K for temperature, Pa for pressure).
const TEMPERATURE: Record<string, [number, number]> = {
  K: [1, 0],
  "°C": [1, 273.15],
  degC: [1, 273.15],
  "°F": [5 / 9, 273.15 - (32 * 5) / 9],
  degF: [5 / 9, 273.15 - (32 * 5) / 9],
};
const PRESSURE: Record<string, [number, number]> = {
  Pa: [1, 0],
  hPa: [100, 0],
  kPa: [1000, 0],
  MPa: [1e6, 0],
  bar: [1e5, 0],
  mbar: [100, 0],
  psi: [6894.757293168, 0],
};

/** The unit `unit` is shown in under `prefs` (itself when no preference applies to it). */
export function displayUnit(unit: string, prefs: UnitPrefs): string {
  if (prefs.temperature && unit in TEMPERATURE) return prefs.temperature;
  if (prefs.pressure && unit in PRESSURE) return prefs.pressure;
  return unit;
}

/** `value` in `unit`, converted to the unit it is shown in under `prefs`. */
export function toDisplay(value: number, unit: string, prefs: UnitPrefs): number {
  const shown = displayUnit(unit, prefs);
  if (shown === unit) return value;
  const table = unit in TEMPERATURE ? TEMPERATURE : PRESSURE;
  const [fromScale, fromOffset] = table[unit] ?? [1, 0];
  const [toScale, toOffset] = table[shown] ?? [1, 0];
  return (value * fromScale + fromOffset - toOffset) / toScale;
}

let current: UnitPrefs = NO_PREFS;
const listeners = new Set<() => void>();

function isPrefs(x: unknown): x is UnitPrefs {
  if (!x || typeof x !== "object") return false;
  const p = x as Record<string, unknown>;
  const okT = p.temperature === null || (typeof p.temperature === "string" && p.temperature in TEMPERATURE);
  const okP = p.pressure === null || (typeof p.pressure === "string" && ["bar", "psi", "kPa"].includes(p.pressure));
  return okT && okP;
}

/** Read the saved preferences (a missing or damaged entry: none). */
export function loadUnitPrefs(storage: Pick<Storage, "getItem"> | null = globalThis.localStorage ?? null): UnitPrefs {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? "null");
    current = isPrefs(parsed) ? parsed : NO_PREFS;
  } catch {
    current = NO_PREFS;
  }
  return current;
}

/** The preferences in force. */
export function unitPrefs(): UnitPrefs {
  return current;
}

/** Change and save the preferences; subscribers (the shell) re-render what shows values. */
export function setUnitPrefs(
  prefs: UnitPrefs,
  storage: Pick<Storage, "setItem"> | null = globalThis.localStorage ?? null,
): void {
  current = prefs;
  storage?.setItem(STORAGE_KEY, JSON.stringify(prefs));
  for (const l of listeners) l();
}

export function subscribeUnitPrefs(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
