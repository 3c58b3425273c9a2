// The whole History view in the URL: `#/history/<machine>?range=6h&sensors=a,b&add=m:s,m:s&mode=normal&hide=k,k`
// (or `from=<ISO>&to=<ISO>` for an absolute range), so a link, a reload or a saved view reproduces the chart.
// Pure parse/format: a parameter that is missing, unknown or malformed falls back to its default, never throws.

import { MARKER_KINDS, type MarkerKind } from "./annotations";
import { RANGE_SECONDS, type RangeKey } from "./history";

/** separate: a chart per sensor; axes: one chart, an axis per display unit; normal: one chart, every series scaled
 * to its machine's normal band (0 = normal low, 1 = normal high). */
export type ChartMode = "separate" | "axes" | "normal";
export const CHART_MODES: readonly ChartMode[] = ["separate", "axes", "normal"];

export type RelativeKey = Exclude<RangeKey, "custom">;

export type HistoryRange = { kind: "relative"; key: RelativeKey } | { kind: "absolute"; from: Date; to: Date };

/** A sensor of another machine drawn beside the primary machine's. */
export interface SeriesRef {
  machine: string;
  sensor: string;
}

export interface HistoryState {
  range: HistoryRange;
  /** The primary machine's sensors shown; null: its kind's default pick. */
  sensors: string[] | null;
  /** Series of other machines (shown on the one chart, or as charts of their own). */
  extra: SeriesRef[];
  mode: ChartMode;
  /** Marker kinds toggled off, in MARKER_KINDS order. */
  hidden: MarkerKind[];
}

const DEFAULT_KEY: RelativeKey = "1h";
export const DEFAULT_RANGE: HistoryRange = { kind: "relative", key: DEFAULT_KEY };
export const DEFAULT_HISTORY_STATE: HistoryState = {
  range: DEFAULT_RANGE,
  sensors: null,
  extra: [],
  mode: "separate",
  hidden: [],
};

export const MAX_SENSORS = 16;
export const MAX_EXTRA_SERIES = 8;
const SENSOR_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const MACHINE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// Absolute ranges between 1970 and 9999: anything else is a typo, not a range to draw.
const MAX_MS = Date.UTC(9999, 11, 31);

function isRelativeKey(k: string): k is RelativeKey {
  return Object.prototype.hasOwnProperty.call(RANGE_SECONDS, k);
}

function parseInstant(value: string | null): Date | null {
  if (!value) return null;
  const ms = /^\d{1,16}$/.test(value) ? Number(value) : Date.parse(value); // epoch ms (as Grafana) or ISO 8601
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_MS ? new Date(ms) : null;
}

function list(value: string | null): string[] {
  return value ? value.split(",").filter(Boolean) : [];
}

function unique<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The parameters of a hash query (`?a=b&…`, with or without the `?`), or null when it cannot be read. */
export function hashQueryParams(query: string): URLSearchParams | null {
  try {
    return new URLSearchParams(query.replace(/^\?/, ""));
  } catch {
    return null;
  }
}

/** The view state a hash query (`?a=b&…`, with or without the `?`) names; defaults for whatever it lacks. */
export function parseHistoryQuery(query: string): HistoryState {
  const q = hashQueryParams(query);
  if (q === null) return DEFAULT_HISTORY_STATE;
  const from = parseInstant(q.get("from"));
  const to = parseInstant(q.get("to"));
  const rel = q.get("range") ?? "";
  const range: HistoryRange =
    from && to && from.getTime() < to.getTime()
      ? { kind: "absolute", from, to }
      : isRelativeKey(rel)
        ? { kind: "relative", key: rel }
        : DEFAULT_RANGE;
  const sensors = q.has("sensors")
    ? unique(
        list(q.get("sensors")).filter((k) => SENSOR_KEY.test(k)),
        (k) => k,
      ).slice(0, MAX_SENSORS)
    : null;
  const extra = unique(
    list(q.get("add")).flatMap((pair): SeriesRef[] => {
      const at = pair.lastIndexOf(":");
      const machine = pair.slice(0, at);
      const sensor = pair.slice(at + 1);
      return at > 0 && MACHINE_ID.test(machine) && SENSOR_KEY.test(sensor) ? [{ machine, sensor }] : [];
    }),
    (r) => `${r.machine}:${r.sensor}`,
  ).slice(0, MAX_EXTRA_SERIES);
  const m = q.get("mode") ?? "";
  const mode = (CHART_MODES as readonly string[]).includes(m) ? (m as ChartMode) : "separate";
  const hideList = list(q.get("hide"));
  const hidden = MARKER_KINDS.filter((k) => hideList.includes(k));
  return { range, sensors, extra, mode, hidden };
}

// encodeURIComponent, but keeping the list separators "," and ":" readable (both are legal in a query).
function enc(s: string): string {
  return encodeURIComponent(s).replace(/%2C/gi, ",").replace(/%3A/gi, ":");
}

/** The hash query of `state` ("" when everything is the default), in a fixed order so equal views give equal
 * links: range (or from/to), sensors, add, mode, hide. Only printable ASCII without spaces. */
export function formatHistoryQuery(state: HistoryState): string {
  const parts: string[] = [];
  const r = state.range;
  if (r.kind === "absolute") parts.push(`from=${enc(r.from.toISOString())}`, `to=${enc(r.to.toISOString())}`);
  else if (r.key !== DEFAULT_KEY) parts.push(`range=${enc(r.key)}`);
  if (state.sensors !== null) parts.push(`sensors=${state.sensors.map(enc).join(",")}`);
  if (state.extra.length > 0)
    parts.push(`add=${state.extra.map((x) => `${enc(x.machine)}:${enc(x.sensor)}`).join(",")}`);
  if (state.mode !== "separate") parts.push(`mode=${state.mode}`);
  const hidden = MARKER_KINDS.filter((k) => state.hidden.includes(k));
  if (hidden.length > 0) parts.push(`hide=${hidden.join(",")}`);
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

/** A string that is equal for equal ranges (effects depend on it, not on the object that a parse makes anew). */
export function rangeKeyOf(range: HistoryRange): string {
  return range.kind === "absolute" ? `${range.from.getTime()}-${range.to.getTime()}` : range.key;
}

/** "machine:sensor", the id of a series across the view (data, colours, legends). */
export function seriesId(ref: SeriesRef): string {
  return `${ref.machine}:${ref.sensor}`;
}
