// Plant KPIs: OEE, availability, performance, quality, MTBF, MTTR, failures and downtime of the plant, a line or a
// machine over a range, with a trend per bucket, a Pareto of downtime causes, the six big losses and the drill-down
// into the scope's parts (plant → line → machine), all in the URL hash with the range and grouping (kpis.ts
// parseKpiQuery, as the History view's state), so a link reopens the same selection. Figures come from GET /kpis
// (docs/KPIS.md).

import { useEffect, useLayoutEffect, useRef } from "react";
import uPlot from "uplot";
import { api } from "../api/client";
import { useFactory } from "../context";
import { formatClock, formatDay, formatHours, formatPercent } from "../format";
import { machineTimeNote, RANGE_LABEL, rangeBounds, timeAxisLabels } from "../history";
import { usePolling } from "../hooks/usePolling";
import {
  breadcrumb,
  bucketSeries,
  causeLabel,
  kpiHash,
  kpiQuery,
  noProduction,
  pareto,
  sixBigLosses,
  trendColumns,
  KPI_RANGES,
  type Figure,
  type KpiFigures,
  type KpiGroup,
  type KpiPath,
  type KpiReport,
  type KpiViewState,
} from "../kpis";

const GROUPS: { value: KpiGroup; label: string }[] = [
  { value: "hour", label: "Hour" },
  { value: "shift", label: "Shift" },
  { value: "day", label: "Day" },
];
const POLL_MS = 15_000;
const TREND = [
  { label: "OEE", color: "#f59e0b", width: 2.5 },
  { label: "Availability", color: "#38bdf8", width: 1.5 },
  { label: "Performance", color: "#a78bfa", width: 1.5 },
  { label: "Quality", color: "#22c55e", width: 1.5 },
];
const CATEGORY_COLOR: Record<string, string> = {
  failure: "#ef4444",
  maintenance: "#a78bfa",
  stop: "#f59e0b",
  idle: "#38bdf8",
  offline: "#5b6577",
};

const hoursOf = (s: number | null | undefined): string => formatHours(s === null || s === undefined ? s : s / 3600);
const pct = (x: number | null | undefined): string => formatPercent(x, 1);

/** A small SVG line of a bucket series (gaps where a bucket's figure is unknown). */
function KpiSpark({ values, color }: { values: (number | null)[]; color: string }) {
  const known = values.filter((v): v is number => v !== null);
  if (values.length < 2 || known.length === 0) return <div className="kpi-spark empty-spark" />;
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  const span = hi - lo || 1;
  const x = (i: number): number => (i / (values.length - 1)) * 100;
  const y = (v: number): number => 26 - ((v - lo) / span) * 22;
  const segments: string[] = [];
  let cur = "";
  values.forEach((v, i) => {
    if (v === null) {
      if (cur) segments.push(cur);
      cur = "";
    } else cur += `${cur ? "L" : "M"}${x(i).toFixed(2)},${y(v).toFixed(2)}`;
  });
  if (cur) segments.push(cur);
  return (
    <svg className="kpi-spark" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
      {segments.map((d, i) => (
        <path key={i} d={d} fill="none" stroke={color} strokeWidth={1.5} vectorEffect="non-scaling-stroke" />
      ))}
      {known.length === 1 &&
        values.map((v, i) => (v === null ? null : <circle key={i} cx={x(i)} cy={y(v)} r={1.6} fill={color} />))}
    </svg>
  );
}

interface CardDef {
  figure: Figure;
  label: string;
  color: string;
  value: (f: KpiFigures) => string;
  sub: (f: KpiFigures) => string;
}

const CARDS: CardDef[] = [
  {
    figure: "oee",
    label: "OEE",
    color: "#f59e0b",
    value: (f) => pct(f.oee),
    sub: (f) => (f.oee === null ? "unknown: no part counters" : "availability × performance × quality"),
  },
  {
    figure: "availability",
    label: "Availability",
    color: "#38bdf8",
    value: (f) => pct(f.availability),
    sub: (f) => `run ${hoursOf(f.run_s)} of ${hoursOf(f.planned_s)} planned`,
  },
  {
    figure: "performance",
    label: "Performance",
    color: "#a78bfa",
    value: (f) => pct(f.performance),
    sub: (f) =>
      f.performance === null ? "unknown: no part counters" : `ideal cycle × ${f.parts_total ?? 0} parts / run time`,
  },
  {
    figure: "quality",
    label: "Quality",
    color: "#22c55e",
    value: (f) => pct(f.quality),
    sub: (f) => (f.parts_total === null ? "unknown: no part counters" : `${f.parts_good} good of ${f.parts_total}`),
  },
  {
    figure: "mtbf_s",
    label: "MTBF",
    color: "#2dd4bf",
    value: (f) => hoursOf(f.mtbf_s),
    sub: (f) => (f.mtbf_s === null ? "no failure in the range" : "run time / failures"),
  },
  {
    figure: "mttr_s",
    label: "MTTR",
    color: "#f472b6",
    value: (f) => hoursOf(f.mttr_s),
    sub: (f) => (f.mttr_s === null ? "no repair in the range" : "time failed / failures"),
  },
  {
    figure: "failures",
    label: "Failures",
    color: "#ef4444",
    value: (f) => String(f.failures),
    sub: (f) => `${f.alarms} alarm${f.alarms === 1 ? "" : "s"} raised`,
  },
  {
    figure: "downtime_s",
    label: "Downtime",
    color: "#fb7185",
    value: (f) => hoursOf(f.downtime_s),
    sub: (f) => `${pct(f.planned_s > 0 ? f.downtime_s / f.planned_s : null)} of planned time`,
  },
];

function KpiCards({ report }: { report: KpiReport }) {
  const f = report.total;
  const none = noProduction(f);
  return (
    <div className="grid kpi-cards">
      {CARDS.map((c) => {
        const shown = none ? "—" : c.value(f);
        return (
          <div
            key={c.figure}
            className="card kpi"
            data-testid={`kpi-card-${c.figure}`}
            data-known={shown === "—" ? "false" : "true"}
          >
            <div className="label">{c.label}</div>
            <div className="value" style={{ color: shown === "—" ? "var(--faint)" : c.color }}>
              {shown}
            </div>
            <div className="sub">{none ? "no production in this range" : c.sub(f)}</div>
            <KpiSpark values={bucketSeries(report.buckets, c.figure)[1]} color={c.color} />
          </div>
        );
      })}
    </div>
  );
}

function TrendChart({ report, scale }: { report: KpiReport; scale: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const bounds = useRef<[number, number]>([0, 1]);
  useLayoutEffect(() => {
    bounds.current = [Date.parse(report.start) / 1000, Date.parse(report.end) / 1000];
  });
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = { stroke: "#8a94a6", grid: { stroke: "#222935", width: 1 }, ticks: { stroke: "#2b3340", width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 220,
      scales: {
        x: { time: true, range: () => bounds.current },
        y: { range: (_u, _min, max) => [0, Math.max(100, Math.ceil((max ?? 100) / 10) * 10)] },
      },
      axes: [
        { ...axis, values: (_u, splits, _i, _space, incr) => timeAxisLabels(splits, incr) },
        { ...axis, size: 52, values: (_u, splits) => splits.map((v) => `${v} %`) },
      ],
      series: [
        { value: (_u, v) => (v == null ? "—" : `${formatDay(v * 1000)} ${formatClock(v * 1000)}`) },
        ...TREND.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width,
          points: { show: true, size: 5 },
          value: (_u: uPlot, v: number | null) => (v == null ? "—" : `${v.toFixed(1)} %`),
        })),
      ],
    };
    const p = new uPlot(opts, [[], [], [], [], []], el);
    plot.current = p;
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(trendColumns(report.buckets) as uPlot.AlignedData);
  }, [report]);
  const known = report.buckets.some((b) => b.oee !== null || b.availability !== null);
  return (
    <div className="card hist-chart kpi-trend" data-testid="kpi-trend" data-buckets={report.buckets.length}>
      <div className="title">
        <b style={{ color: "var(--text)" }}>OEE trend</b>
        <span>per {report.group}</span>
      </div>
      <div ref={host} />
      {!known && <div className="empty">no production reported in this range</div>}
      {known && report.buckets.length < 3 && (
        <div className="faint kpi-trend-note" data-testid="kpi-trend-few">
          {report.buckets.length} bucket{report.buckets.length === 1 ? "" : "s"} of a {report.group} in this range
          {scale !== 1 && ` — buckets are ${report.group}s of the wall clock, ${scale}× as long in machine time`}: a
          longer range shows a trend.
        </div>
      )}
    </div>
  );
}

function Pareto({ f }: { f: KpiFigures }) {
  const bars = pareto(f.downtime);
  const top = bars[0]?.seconds ?? 0;
  return (
    <div className="card" data-testid="kpi-pareto">
      <div className="card-h">Downtime by cause (Pareto)</div>
      {bars.length === 0 ? (
        <div className="empty">{noProduction(f) ? "no production reported in this range" : "no downtime"}</div>
      ) : (
        <div className="kpi-wrap">
          <table className="t pareto">
            <thead>
              <tr>
                <th>Cause</th>
                <th className="pareto-bar-h">Downtime</th>
                <th className="r">Stops</th>
                <th className="r">Share</th>
                <th className="r">Cumulative</th>
              </tr>
            </thead>
            <tbody>
              {bars.map((b) => (
                <tr key={b.cause} data-testid="pareto-row" data-cause={b.cause}>
                  <td>{causeLabel(b.cause)}</td>
                  <td className="pareto-bar-cell">
                    <span className="pareto-cell">
                      <span className="pareto-track">
                        <span
                          className="pareto-bar"
                          style={{ width: `${(b.seconds / top) * 100}%`, background: CATEGORY_COLOR[b.category] }}
                        />
                      </span>
                      <span className="num pareto-val">{hoursOf(b.seconds)}</span>
                    </span>
                  </td>
                  <td className="num r">{b.stops}</td>
                  <td className="num r">{pct(b.share)}</td>
                  <td className="num r">{pct(b.cumulative)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function BigLosses({ f }: { f: KpiFigures }) {
  const none = noProduction(f);
  return (
    <div className="card" data-testid="kpi-losses">
      <div className="card-h">The six big losses, as far as the report tells them apart</div>
      {none ? (
        <div className="empty">no production reported in this range</div>
      ) : (
        <div className="kpi-wrap">
          <table className="t losses">
            <thead>
              <tr>
                <th>Loss</th>
                <th>Lowers</th>
                <th className="r">Time lost</th>
                <th className="r">of planned</th>
                <th>Note</th>
              </tr>
            </thead>
            <tbody>
              {sixBigLosses(f).map((l) => (
                <tr key={l.key} data-testid={`loss-${l.key}`}>
                  <td>{l.label}</td>
                  <td className="muted">{l.factor}</td>
                  <td className="num r">{hoursOf(l.seconds)}</td>
                  <td className="num r">{pct(l.seconds === null ? null : l.seconds / f.planned_s)}</td>
                  <td className="faint">{l.note}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Children({ report, state, onPath }: { report: KpiReport; state: KpiViewState; onPath: (p: KpiPath) => void }) {
  const title = report.scope === "plant" ? "Lines" : "Machines";
  if (report.scope === "machine") return null;
  return (
    <div className="card" data-testid="kpi-children">
      <div className="card-h">{title} · click a row to drill down</div>
      {report.children.length === 0 ? (
        <div className="empty">nothing to drill into</div>
      ) : (
        <div className="kpi-wrap kpi-children-table">
          <table className="t">
            <thead>
              <tr>
                <th>{report.scope === "plant" ? "Line" : "Machine"}</th>
                <th className="r">OEE</th>
                <th className="r">Avail.</th>
                <th className="r">Perf.</th>
                <th className="r">Quality</th>
                <th className="r">Failures</th>
                <th className="r">MTBF</th>
                <th className="r">MTTR</th>
                <th className="r">Downtime</th>
              </tr>
            </thead>
            <tbody>
              {report.children.map((c) => {
                const path: KpiPath = c.scope === "line" ? { scope: "line", id: c.id } : { scope: "machine", id: c.id };
                const t = c.total;
                const none = noProduction(t);
                return (
                  <tr
                    key={c.id}
                    className="clickable"
                    onClick={() => onPath(path)}
                    data-testid="kpi-child"
                    data-id={c.id}
                    data-scope={c.scope}
                  >
                    <td>
                      <a href={kpiHash(path, state)} onClick={(e) => e.stopPropagation()}>
                        {c.name}
                      </a>{" "}
                      <span className="faint">{c.id}</span>
                    </td>
                    <td className="num r">{none ? "—" : pct(t.oee)}</td>
                    <td className="num r">{none ? "—" : pct(t.availability)}</td>
                    <td className="num r">{none ? "—" : pct(t.performance)}</td>
                    <td className="num r">{none ? "—" : pct(t.quality)}</td>
                    <td className="num r">{t.failures}</td>
                    <td className="num r">{hoursOf(t.mtbf_s)}</td>
                    <td className="num r">{hoursOf(t.mttr_s)}</td>
                    <td className="num r">{none ? "—" : hoursOf(t.downtime_s)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** The KPI view of `path` with the range and grouping of `state` (both from the URL hash). A drill-down is a new
 * browser-history entry (`onChange(path, state, true)`); a range or grouping toggle rewrites the current one, as the
 * History view's toggles do, so Back leaves the selection rather than undoing a click. */
export function KpisView({
  path,
  state,
  onChange,
}: {
  path: KpiPath;
  state: KpiViewState;
  onChange: (path: KpiPath, state: KpiViewState, push: boolean) => void;
}) {
  const info = useFactory();
  const scale = info.plant.time_scale;
  const { range, group } = state;
  const onPath = (p: KpiPath): void => onChange(p, state, true);
  const key = `${path.scope}/${path.scope === "plant" ? "" : path.id}/${range}/${group}`;
  // the server reports every duration, performance and OEE in the machines' time (FT_TIME_SCALE)
  const { data: report, error } = usePolling(
    key,
    () => {
      const [from, to] = rangeBounds(range, scale);
      return api.kpis(kpiQuery(path, from, to, group));
    },
    POLL_MS,
    "the KPIs",
  );
  const crumbs = breadcrumb(path, info.layout);
  // the download covers exactly the range on screen (or, before the first answer, the range as of now)
  const [from, to] = report ? [new Date(report.start), new Date(report.end)] : rangeBounds(range, scale);
  const csv = api.kpisCsvHref(kpiQuery(path, from, to, group));
  const note = machineTimeNote(range, scale);

  return (
    <div className="scroll" data-testid="kpis" data-scope={path.scope}>
      <div className="card kpi-controls">
        <nav className="kpi-crumbs" aria-label="drill-down" data-testid="kpi-breadcrumb">
          {crumbs.map((c, i) => (
            <span key={c.path.scope}>
              {i > 0 && <span className="faint sep">›</span>}
              {i === crumbs.length - 1 ? (
                <b data-testid="kpi-crumb-current">{c.label}</b>
              ) : (
                <a href={kpiHash(c.path, state)} data-testid={`kpi-crumb-${c.path.scope}`}>
                  {c.label}
                </a>
              )}
            </span>
          ))}
        </nav>
        <span className="spacer" />
        <div className="seg" data-testid="kpi-range" data-value={range}>
          {KPI_RANGES.map((k) => (
            <button
              key={k}
              className={range === k ? "on" : ""}
              aria-pressed={range === k}
              onClick={() => onChange(path, { ...state, range: k }, false)}
              data-range={k}
            >
              {RANGE_LABEL[k]}
            </button>
          ))}
        </div>
        <div className="seg" data-testid="kpi-group" data-value={group}>
          {GROUPS.map((g) => (
            <button
              key={g.value}
              className={group === g.value ? "on" : ""}
              aria-pressed={group === g.value}
              onClick={() => onChange(path, { ...state, group: g.value }, false)}
              data-group={g.value}
            >
              {g.label}
            </button>
          ))}
        </div>
        <a className="btn sm" href={csv} download data-testid="kpi-csv">
          Download CSV
        </a>
      </div>
      {note && (
        <div className="kpi-note faint" data-testid="kpi-machine-time">
          {note}. Durations, performance and OEE are in machine time (here and in the CSV); buckets are hours, shifts
          and days of the wall clock (UTC).
        </div>
      )}
      {error && (
        <div className="notice bad" role="alert" data-testid="kpi-error">
          Could not load the KPIs: {error}
          {report && " — the figures below are from the last successful load."}
        </div>
      )}
      {report === null ? (
        <div className="card empty">{error ? "No KPIs loaded." : "Loading…"}</div>
      ) : (
        <>
          {noProduction(report.total) && (
            <div className="card empty" data-testid="kpis-empty">
              No production reported in this range: it has no planned production time with a known machine status.
            </div>
          )}
          <KpiCards report={report} />
          {(report.total.notes ?? []).length > 0 && (
            <ul className="kpi-notes faint" data-testid="kpi-notes">
              {(report.total.notes ?? []).map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          <TrendChart report={report} scale={scale} />
          <Children report={report} state={state} onPath={onPath} />
          <div className="kpi-split">
            <Pareto f={report.total} />
            <BigLosses f={report.total} />
          </div>
        </>
      )}
    </div>
  );
}
