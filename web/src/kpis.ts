// Plant KPI view logic (GET /kpis): the drill-down path, the Pareto of downtime causes, bucket series for the
// charts and the six big losses, kept pure for tests. Durations of the report are in the seconds that stamp the
// events (the wall clock); under a simulator at `timeScale` x they are shown in the machines' time (× timeScale).

import type { DowntimeCause, FactoryLayout, KpiFigures, KpiGrouping, KpiReport } from "./api/types";
import { hashQueryParams } from "./historyState";

export type { DowntimeCause, KpiFigures, KpiReport };
export type Grouping = KpiGrouping;

/** Where the drill-down stands: the plant, one line, or one machine. */
export type KpiPath = { scope: "plant" } | { scope: "line"; id: string } | { scope: "machine"; id: string };

export const PLANT: KpiPath = { scope: "plant" };

/** The path of `#/kpis[/line/<id> | /machine/<id>]` from the hash's parts after `kpis` (decoded). */
export function parseKpiPath(parts: readonly string[]): KpiPath {
  const [scope, id] = parts;
  if ((scope === "line" || scope === "machine") && id) return { scope, id };
  return PLANT;
}

/** The ranges the KPI view offers (ending now, in machine time) and its bucket groupings. */
export type KpiRange = "24h" | "7d" | "30d";
export const KPI_RANGES: readonly KpiRange[] = ["24h", "7d", "30d"];
export type KpiGroup = Exclude<Grouping, "none">;
export const KPI_GROUPS: readonly KpiGroup[] = ["hour", "shift", "day"];

/** The KPI view's range and grouping: in the hash's query like the History view's state (historyState.ts), so a
 * link, a reload or Back reopens the same selection. */
export interface KpiViewState {
  range: KpiRange;
  group: KpiGroup;
}

export const DEFAULT_KPI_STATE: KpiViewState = { range: "24h", group: "hour" };

/** The state a hash query (`?range=7d&group=shift`, with or without the `?`) names; the default for whatever it
 * lacks or names wrong (never throws, as parseHistoryQuery). */
export function parseKpiQuery(query: string): KpiViewState {
  const q = hashQueryParams(query);
  if (q === null) return DEFAULT_KPI_STATE;
  const range = q.get("range") ?? "";
  const group = q.get("group") ?? "";
  return {
    range: (KPI_RANGES as readonly string[]).includes(range) ? (range as KpiRange) : DEFAULT_KPI_STATE.range,
    group: (KPI_GROUPS as readonly string[]).includes(group) ? (group as KpiGroup) : DEFAULT_KPI_STATE.group,
  };
}

/** The hash query of `state`: "" when it is the default, else its non-default parts in a fixed order (range,
 * group), so equal selections give equal links. */
export function formatKpiQuery(state: KpiViewState): string {
  const parts: string[] = [];
  if (state.range !== DEFAULT_KPI_STATE.range) parts.push(`range=${state.range}`);
  if (state.group !== DEFAULT_KPI_STATE.group) parts.push(`group=${state.group}`);
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

/** The hash of a drill-down path, with the view's range and grouping: `#/kpis`, `#/kpis/line/<id>`,
 * `#/kpis/machine/<id>`, then `?range=…&group=…` unless they are the defaults. */
export function kpiHash(path: KpiPath, state: KpiViewState = DEFAULT_KPI_STATE): string {
  const base = path.scope === "plant" ? "#/kpis" : `#/kpis/${path.scope}/${encodeURIComponent(path.id)}`;
  return base + formatKpiQuery(state);
}

export interface Crumb {
  label: string;
  path: KpiPath;
}

/** Plant › line › machine for a path, named from the layout (an id the layout does not know keeps its id). */
export function breadcrumb(path: KpiPath, layout: FactoryLayout): Crumb[] {
  const crumbs: Crumb[] = [{ label: layout.name || "Plant", path: PLANT }];
  const lineCrumb = (id: string): Crumb => ({
    label: layout.lines.find((l) => l.id === id)?.name ?? id,
    path: { scope: "line", id },
  });
  if (path.scope === "line") crumbs.push(lineCrumb(path.id));
  if (path.scope === "machine") {
    const m = layout.machines.find((x) => x.id === path.id);
    if (m?.line) crumbs.push(lineCrumb(m.line));
    crumbs.push({ label: m ? `${m.name} (${m.id})` : path.id, path });
  }
  return crumbs;
}

/** The query of GET /kpis and /exports/kpis for a path, range and grouping. */
export function kpiQuery(path: KpiPath, from: Date, to: Date, group: Grouping): URLSearchParams {
  const q = new URLSearchParams({ scope: path.scope });
  if (path.scope !== "plant") q.set("id", path.id);
  q.set("from", from.toISOString());
  q.set("to", to.toISOString());
  q.set("group", group);
  return q;
}

export interface ParetoBar {
  cause: string;
  category: DowntimeCause["category"];
  seconds: number;
  stops: number;
  /** This cause's share of all downtime (0..1). */
  share: number;
  /** The share of this cause and every larger one (0..1; 1 at the last bar). */
  cumulative: number;
}

/** Downtime causes largest first (ties by name), with their share and cumulative share; causes of 0 s left out. */
export function pareto(causes: readonly DowntimeCause[]): ParetoBar[] {
  const kept = causes.filter((c) => Number.isFinite(c.seconds) && c.seconds > 0);
  kept.sort((a, b) => b.seconds - a.seconds || a.cause.localeCompare(b.cause));
  const total = kept.reduce((s, c) => s + c.seconds, 0);
  let run = 0;
  return kept.map((c, i) => {
    run += c.seconds;
    return {
      cause: c.cause,
      category: c.category,
      seconds: c.seconds,
      stops: c.stops,
      share: c.seconds / total,
      cumulative: i === kept.length - 1 ? 1 : run / total,
    };
  });
}

/** "failure:tool_wear" → "failure · tool wear". */
export function causeLabel(cause: string): string {
  const [head, ...rest] = cause.split(":");
  const tail = rest.join(":").replace(/_/g, " ");
  return tail ? `${head} · ${tail}` : (head ?? cause);
}

export type Figure =
  "oee" | "availability" | "performance" | "quality" | "mtbf_s" | "mttr_s" | "failures" | "downtime_s";

/** uPlot columns [t (epoch s of each bucket's start), values] of one figure; an unknown figure is null (a gap). */
export function bucketSeries(buckets: readonly KpiFigures[], figure: Figure): [number[], (number | null)[]] {
  const t: number[] = [];
  const v: (number | null)[] = [];
  for (const b of buckets) {
    const ms = Date.parse(b.start);
    if (!Number.isFinite(ms)) continue;
    t.push(ms / 1000);
    const x = b[figure];
    v.push(typeof x === "number" && Number.isFinite(x) ? x : null);
  }
  return [t, v];
}

/** The trend chart's columns: t, then OEE, availability, performance, quality in percent (null where unknown). */
export function trendColumns(buckets: readonly KpiFigures[]): [number[], ...(number | null)[][]] {
  const [t] = bucketSeries(buckets, "oee");
  const pct = (f: Figure): (number | null)[] => bucketSeries(buckets, f)[1].map((x) => (x === null ? null : x * 100));
  return [t, pct("oee"), pct("availability"), pct("performance"), pct("quality")];
}

/** True when a report says nothing about production: no planned production time in the range at all. */
export function noProduction(f: KpiFigures | null | undefined): boolean {
  return !f || !(f.planned_s > 0);
}

export interface Loss {
  key: string;
  label: string;
  /** Which OEE factor it lowers. */
  factor: "availability" | "performance" | "quality";
  /** Seconds of planned production time lost (in the report's seconds); null when the report cannot say. */
  seconds: number | null;
  /** Why it is null or merged with another loss (empty when the figure is measured as such). */
  note: string;
}

function downtimeOf(f: KpiFigures, test: (c: DowntimeCause) => boolean): number {
  return f.downtime.filter(test).reduce((s, c) => s + c.seconds, 0);
}

/** The six big losses as far as the report carries them: breakdowns (failure downtime), setups and adjustments
 * (stops for a changeover or setup), the other stops (maintenance, unplanned stops, idle, offline), small stops
 * with reduced speed (one figure: performance loss), defects with reduced yield (one figure: quality loss). The
 * report separates neither small stops from reduced speed nor start-up rejects from defects, so each pair is one
 * row saying so. */
export function sixBigLosses(f: KpiFigures): Loss[] {
  const setup = (c: DowntimeCause): boolean => /^stop:(changeover|setup|adjust)/.test(c.cause);
  const perfNote = f.performance_loss_s === null ? "unknown without part counters and an ideal cycle time" : "";
  const qualNote = f.quality_loss_s === null ? "unknown without part counters" : "";
  return [
    {
      key: "breakdowns",
      label: "Breakdowns (failures)",
      factor: "availability",
      seconds: downtimeOf(f, (c) => c.category === "failure"),
      note: "",
    },
    {
      key: "setup",
      label: "Setup and adjustments",
      factor: "availability",
      seconds: downtimeOf(f, setup),
      note: "stops reported with reason changeover/setup",
    },
    {
      key: "other-stops",
      label: "Other stops (maintenance, stops, idle, offline)",
      factor: "availability",
      seconds: downtimeOf(f, (c) => c.category !== "failure" && !setup(c)),
      note: "",
    },
    {
      key: "speed",
      label: "Small stops and reduced speed",
      factor: "performance",
      seconds: f.performance_loss_s,
      note: perfNote || "one figure: the report does not tell small stops from reduced speed",
    },
    {
      key: "defects",
      label: "Defects and reduced yield",
      factor: "quality",
      seconds: f.quality_loss_s,
      note: qualNote || "one figure: the report does not tell start-up rejects from other defects",
    },
  ];
}
