// History view logic: time ranges and bucketed series for uPlot, kept pure for tests.

import type { HistoryBucket } from "./api/types";
import { formatClock, formatDay, fromWallTime, wallTime } from "./format";

export type RangeKey = "15m" | "1h" | "6h" | "24h" | "7d" | "30d" | "custom";

export const RANGE_SECONDS: Record<Exclude<RangeKey, "custom">, number> = {
  "15m": 15 * 60,
  "1h": 3600,
  "6h": 6 * 3600,
  "24h": 86400,
  "7d": 7 * 86400,
  "30d": 30 * 86400,
};

/** The [from, to] of a relative range ending now, in the machines' time: with a simulator at `timeScale` x,
 * "24 h" is 24 simulated hours, i.e. 24 h / `timeScale` of the wall clock that stamps the readings. */
export function rangeBounds(
  key: Exclude<RangeKey, "custom">,
  timeScale: number = 1,
  now: number = Date.now(),
): [Date, Date] {
  return [new Date(now - (RANGE_SECONDS[key] * 1000) / timeScale), new Date(now)];
}

/** "24 h of machine time = 24 min of wall clock" for a compressed clock; null when time is not compressed. */
export function machineTimeNote(key: Exclude<RangeKey, "custom">, timeScale: number): string | null {
  if (timeScale === 1) return null;
  const wallS = RANGE_SECONDS[key] / timeScale;
  const wall =
    wallS >= 3600
      ? `${+(wallS / 3600).toFixed(1)} h`
      : wallS >= 60
        ? `${+(wallS / 60).toFixed(1)} min`
        : `${+wallS.toFixed(1)} s`;
  return `machine time: ${RANGE_LABEL[key]} = ${wall} of wall clock (simulated time ×${+timeScale.toFixed(1)})`;
}

export const RANGE_LABEL: Record<Exclude<RangeKey, "custom">, string> = {
  "15m": "15 min",
  "1h": "1 h",
  "6h": "6 h",
  "24h": "24 h",
  "7d": "7 d",
  "30d": "30 d",
};

/** How many buckets to ask for: about one per two pixels of chart, within the server's sensible limits. */
export function bucketCount(widthPx: number): number {
  return Math.max(20, Math.min(1000, Math.round(widthPx / 2)));
}

/** What places a series' buckets in time: the asked-for range and the width of a bucket (HistorySeries). */
export interface BucketFrame {
  start: string;
  end: string;
  bucket_ms: number;
}

/** uPlot columns [t, min, avg, max] (t in epoch seconds) from buckets, values through `convert` (display units).
 * With the series' `frame`, each bucket is drawn at the middle of its part of the range: aligned buckets
 * (`bucketing: "aligned"`) have a whole width from a round boundary, so the first may start before `from` and the
 * last end after `to`; without it, at the bucket's start. */
export function toColumns(
  buckets: HistoryBucket[],
  convert: (v: number) => number = (v) => v,
  frame?: BucketFrame,
): [number[], number[], number[], number[]] {
  const t: number[] = [];
  const min: number[] = [];
  const avg: number[] = [];
  const max: number[] = [];
  const from = frame ? Date.parse(frame.start) : NaN;
  const to = frame ? Date.parse(frame.end) : NaN;
  const placed = frame && Number.isFinite(from) && Number.isFinite(to) && frame.bucket_ms > 0;
  for (const b of buckets) {
    const ms = Date.parse(b.ts);
    if (!Number.isFinite(ms)) continue;
    t.push((placed ? (Math.max(ms, from) + Math.min(ms + frame.bucket_ms, to)) / 2 : ms) / 1000);
    min.push(convert(b.min));
    avg.push(convert(b.avg));
    max.push(convert(b.max));
  }
  return [t, min, avg, max];
}

/** A value for <input type="datetime-local">, on the plant's clock. */
export function toLocalInput(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  const w = wallTime(d.getTime());
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** The instant an <input type="datetime-local"> value names on the plant's clock (null when it is not one). */
export function fromLocalInput(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(fromWallTime({ year, month, day, hour, minute, second }));
}

/** uPlot x-axis labels (epoch seconds) on the dashboard's one 24-hour clock: HH:MM, with seconds below a
 * minute's spacing, and the date where the day changes or ticks are a day or more apart. */
/** Least room between two time ticks, in CSS px: a label with its day ("07 Dec 16:50:15", the first of a new day)
 * is about 90 px wide at the axis font, and uPlot's default (50 px) packed "16:50:00 16:50:15 …" edge to edge. */
export const TIME_AXIS_SPACE = 90;

export function timeAxisLabels(splits: number[], incrS: number): string[] {
  let prevDay = "";
  return splits.map((t) => {
    const ms = t * 1000;
    const day = formatDay(ms);
    const clock = formatClock(ms);
    const time = incrS < 60 ? clock : clock.slice(0, 5);
    const label = incrS >= 86400 ? day : day !== prevDay && prevDay !== "" ? `${day} ${time}` : time;
    prevDay = day;
    return label;
  });
}
