// The History view's data: the bucketed history of every series (of any machine) and the primary machine's events
// and alarms (its markers), loaded for the range and again every 15 s while the range is relative.

import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Alarm, HistorySeries, MachineEvent } from "../api/types";
import { bucketCount, rangeBounds } from "../history";
import { type HistoryRange, rangeKeyOf, type SeriesRef, seriesId } from "../historyState";

export interface MarkerLog {
  events: MachineEvent[];
  alarms: Alarm[];
  from: Date;
  to: Date;
}

export interface HistoryData {
  /** By series id ("machine:sensor"). */
  series: Record<string, HistorySeries>;
  log: MarkerLog | null;
  /** What could not be loaded (a series named by its id, or the events), null when everything came. */
  error: string | null;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The bounds a range stands for now: a relative one ends now, in the machines' time (rangeBounds). */
export function boundsOf(range: HistoryRange, timeScale: number): [Date, Date] {
  return range.kind === "absolute" ? [range.from, range.to] : rangeBounds(range.key, timeScale);
}

export function useHistoryData(
  primary: string,
  refs: readonly SeriesRef[],
  range: HistoryRange,
  timeScale: number,
): HistoryData {
  const [series, setSeries] = useState<Record<string, HistorySeries>>({});
  const [log, setLog] = useState<MarkerLog | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const relative = range.kind === "relative";
  const rangeKey = rangeKeyOf(range);
  const refsKey = refs.map(seriesId).join(",");

  useEffect(() => {
    if (!relative) return;
    const t = setInterval(() => setTick((x) => x + 1), 15_000);
    return () => clearInterval(t);
  }, [relative]);

  useEffect(() => {
    const wanted = refsKey ? refsKey.split(",") : [];
    if (!primary || wanted.length === 0) return;
    let cancelled = false;
    const [from, to] = boundsOf(range, timeScale);
    const points = bucketCount(Math.max(400, window.innerWidth - 140));
    const asks = wanted.map((id) => {
      const at = id.lastIndexOf(":");
      return api.history(id.slice(0, at), id.slice(at + 1), from, to, points);
    });
    void Promise.allSettled(asks).then((results) => {
      if (cancelled) return;
      const got: Record<string, HistorySeries> = {};
      const failed: string[] = [];
      results.forEach((r, i) => {
        const id = wanted[i] ?? "";
        if (r.status === "fulfilled") got[id] = r.value;
        else failed.push(`${id}: ${message(r.reason)}`);
      });
      setSeries(got);
      setError(failed.length ? failed.join("; ") : null);
    });
    Promise.all([api.eventsBetween(primary, from, to), api.alarms({ machine_id: primary })])
      .then(([events, alarms]) => !cancelled && setLog({ events, alarms, from, to }))
      .catch((e: unknown) => !cancelled && setError(`events: ${message(e)}`));
    return () => {
      cancelled = true;
    };
    // the range and the series by their keys: a re-parsed URL makes equal objects anew
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [primary, refsKey, rangeKey, tick, timeScale]);

  return { series, log, error };
}
