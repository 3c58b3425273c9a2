// The series of the one History chart, possibly of several machines: their labels ("machine · sensor (unit)"),
// the normal band each is scaled by in normalised mode, and their uPlot columns. Pure, for tests.

import type { HistorySeries, Machine, SensorSpec } from "./api/types";
import { formatIn, formatUnit } from "./format";
import { toColumns } from "./history";
import { displayUnit, toDisplay, type UnitPrefs } from "./units";

/** One line of the combined chart: a sensor of a machine and its loaded history. */
export interface ChartLine {
  /** "machine:sensor" (historyState.seriesId). */
  id: string;
  machine: string;
  spec: SensorSpec;
  /** The machine's normal band of the sensor (its own override, else the profile's), in the sensor's unit. */
  band: readonly [number, number];
  color: string;
  series: HistorySeries | null;
}

/** The normal band of `spec` on `machine`: the machine's override when it has one, else the profile's. */
export function normalBand(spec: SensorSpec, machine: Machine | undefined): [number, number] {
  const own = machine?.bands?.[spec.key];
  return own ? [own.normal_low, own.normal_high] : [spec.normal_low, spec.normal_high];
}

/** v scaled so the band's low end is 0 and its high end 1 (outside the band: below 0 or above 1). A band of no
 * width (which a valid profile never has) falls back to the series' own min..max, and then to 0. */
export function normaliser(band: readonly [number, number], values: readonly number[]): (v: number) => number {
  let [lo, hi] = band;
  if (!(hi > lo)) {
    const finite = values.filter(Number.isFinite);
    lo = finite.length ? Math.min(...finite) : 0;
    hi = finite.length ? Math.max(...finite) : 0;
  }
  const span = hi - lo;
  return span > 0 ? (v) => (v - lo) / span : () => 0;
}

/** The legend label: "mill-03 · Spindle temperature (°C)"; in normalised mode with what 0 and 1 stand for. */
export function lineLabel(line: ChartLine, normalised: boolean, prefs: UnitPrefs): string {
  const unit = displayUnit(line.spec.unit, prefs);
  const base = `${line.machine} · ${line.spec.label}`;
  if (!normalised) return `${base} (${formatUnit(unit)})`;
  const [lo, hi] = line.band.map((v) => formatIn(v, line.spec.unit));
  return `${base} (${formatUnit(unit)}; 0 = ${lo}, 1 = ${hi})`;
}

/** [times, averages] of a line: in the display unit, or normalised to its band. */
export function lineColumns(line: ChartLine, normalised: boolean, prefs: UnitPrefs): [number[], number[]] {
  const buckets = line.series?.buckets ?? [];
  if (!normalised) {
    const [t, , avg] = toColumns(buckets, (v) => toDisplay(v, line.spec.unit, prefs), line.series ?? undefined);
    return [t, avg];
  }
  const [t, , avg] = toColumns(buckets, undefined, line.series ?? undefined);
  const scale = normaliser(line.band, avg);
  return [t, avg.map(scale)];
}

/** The y scales of the chart: one per display unit (in first-seen order), or the one "normal" scale. */
export function scalesOf(lines: readonly ChartLine[], normalised: boolean, prefs: UnitPrefs): string[] {
  if (normalised) return ["normal"];
  return [...new Set(lines.map((l) => displayUnit(l.spec.unit, prefs)))];
}
