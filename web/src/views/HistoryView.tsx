// History: pick a machine, sensors and a range; the server returns bucketed min/max/avg, drawn as a band.
// Dragging across a chart zooms in (and asks the server for finer buckets); double-click goes back. The machine's
// faults, repairs, maintenance, work orders, commands and alarms are markers on every chart (toggleable), and the
// picked sensors can share one chart with an axis per unit (CombinedChart).

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import { api } from "../api/client";
import type { Alarm, HistorySeries, MachineEvent, SensorSpec } from "../api/types";
import {
  countByKind,
  type Marker,
  MARKER_COLOR,
  MARKER_KINDS,
  MARKER_LABEL,
  markersOf,
  type MarkerKind,
} from "../annotations";
import { CombinedChart, drawMarkers } from "../components/CombinedChart";
import { useFactory } from "../context";
import { formatClock, formatDay, formatUnit } from "../format";
import {
  bucketCount,
  fromLocalInput,
  machineTimeNote,
  RANGE_LABEL,
  rangeBounds,
  timeAxisLabels,
  toColumns,
  toLocalInput,
  type RangeKey,
} from "../history";
import { toDisplay, unitPrefs } from "../units";

const COLORS = ["#38bdf8", "#f59e0b", "#a78bfa", "#22c55e", "#f472b6", "#fb7185", "#2dd4bf", "#facc15"];

interface Range {
  key: RangeKey;
  from: Date;
  to: Date;
}

function HistoryChart({
  series,
  spec,
  color,
  markers,
  onZoom,
  onReset,
}: {
  series: HistorySeries | null;
  spec: SensorSpec;
  color: string;
  markers: Marker[];
  onZoom: (from: Date, to: Date) => void;
  onReset: () => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // values and the normal band in the unit the user prefers (units.ts); a change rebuilds the chart
  const prefs = unitPrefs();
  const convert = useCallback((v: number) => toDisplay(v, spec.unit, prefs), [spec.unit, prefs]);
  // The latest callbacks and series for uPlot's hooks, which are set up once per chart.
  const zoom = useRef(onZoom);
  const reset = useRef(onReset);
  const series_ = useRef(series);
  const marks = useRef(markers);
  useLayoutEffect(() => {
    marks.current = markers;
    zoom.current = onZoom;
    reset.current = onReset;
    series_.current = series;
  });

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = { stroke: "#8a94a6", grid: { stroke: "#222935", width: 1 }, ticks: { stroke: "#2b3340", width: 1 } };
    const fill = color + "33";
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 220,
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: {
        x: {
          time: true,
          // Show the whole asked-for range, not just where there is data.
          range: (_u, min, max) => {
            const sr = series_.current;
            return sr ? [Date.parse(sr.start) / 1000, Date.parse(sr.end) / 1000] : [min, max];
          },
        },
      },
      // One 24-hour clock, as everywhere else in the dashboard (uPlot's default is 12-hour).
      axes: [
        { ...axis, values: (_u, splits, _i, _space, incr) => timeAxisLabels(splits, incr) },
        { ...axis, size: 64 },
      ],
      series: [
        { value: (_u, v) => (v == null ? "—" : `${formatDay(v * 1000)} ${formatClock(v * 1000)}`) },
        { label: "min", stroke: color + "66", width: 1, points: { show: false } },
        { label: `avg (${formatUnit(spec.unit)})`, stroke: color, width: 2, points: { show: false } },
        { label: "max", stroke: color + "66", width: 1, points: { show: false } },
      ],
      bands: [{ series: [3, 1], fill }],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 4) {
              const a = u.posToVal(u.select.left, "x");
              const b = u.posToVal(u.select.left + u.select.width, "x");
              zoom.current(new Date(a * 1000), new Date(b * 1000));
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        draw: [(u) => drawMarkers(u, marks.current)],
        drawClear: [
          (u) => {
            const a = u.valToPos(convert(spec.normal_high), "y", true);
            const b = u.valToPos(convert(spec.normal_low), "y", true);
            const top = Math.max(u.bbox.top, Math.min(a, b));
            const bottom = Math.min(u.bbox.top + u.bbox.height, Math.max(a, b));
            if (!(bottom > top)) return;
            u.ctx.save();
            u.ctx.fillStyle = "rgba(34, 197, 94, 0.07)";
            u.ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
            u.ctx.restore();
          },
        ],
      },
    };
    const p = new uPlot(opts, [[], [], [], []], el);
    plot.current = p;
    const dbl = (): void => reset.current();
    p.over.addEventListener("dblclick", dbl);
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.over.removeEventListener("dblclick", dbl);
      p.destroy();
      plot.current = null;
    };
  }, [spec, color, convert]);

  useEffect(() => {
    if (plot.current && series) plot.current.setData(toColumns(series.buckets, convert));
  }, [series, convert]);

  useEffect(() => {
    const p = plot.current;
    if (p && p.data[0].length > 0) p.redraw(); // an empty chart has no axes to draw over yet
  }, [markers]);

  const n = series?.buckets.length ?? 0;
  const count = series?.buckets.reduce((s, b) => s + b.count, 0) ?? 0;
  return (
    <div className="card hist-chart" data-testid={`history-chart-${spec.key}`} data-points={n}>
      <div className="title">
        <b style={{ color: "var(--text)" }}>{spec.label}</b>
        <span>{formatUnit(spec.unit)}</span>
        <span style={{ flex: 1 }} />
        <span className="num">
          {n} buckets · {count.toLocaleString("en-US")} readings
        </span>
      </div>
      <div ref={host} />
      {series && n === 0 && <div className="empty">no data in this range</div>}
    </div>
  );
}

export function HistoryView({ machine, onMachine }: { machine: string | null; onMachine: (id: string) => void }) {
  const info = useFactory();
  const scale = info.plant.time_scale;
  const machineId = machine && info.byId[machine] ? machine : (info.layout.machines[0]?.id ?? "");
  const m = info.byId[machineId];
  const specs = useMemo(() => (m ? (info.catalogue[m.profile] ?? []) : []), [info, m]);
  // The sensors shown: two of the kind's first three by default, until the user picks; another machine's kind
  // starts again from its default (derived during render, not reset by an effect).
  const defaultPicked = useMemo(
    () =>
      specs
        .slice(0, 3)
        .map((s) => s.key)
        .filter((k) => k !== "air_temp")
        .slice(0, 2),
    [specs],
  );
  const [choice, setChoice] = useState<{ specs: SensorSpec[]; keys: string[] } | null>(null);
  const picked = choice !== null && choice.specs === specs ? choice.keys : defaultPicked;
  const toggle = (key: string): void =>
    setChoice({ specs, keys: picked.includes(key) ? picked.filter((k) => k !== key) : [...picked, key] });
  const [range, setRange] = useState<Range>(() => {
    const [from, to] = rangeBounds("1h", scale);
    return { key: "1h", from, to };
  });
  const [stack, setStack] = useState<Range[]>([]);
  const [data, setData] = useState<Record<string, HistorySeries | null>>({});
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [log, setLog] = useState<{ events: MachineEvent[]; alarms: Alarm[]; from: Date; to: Date } | null>(null);
  const [hidden, setHidden] = useState<ReadonlySet<MarkerKind>>(new Set());
  const [combined, setCombined] = useState(false);

  // Relative ranges follow the clock.
  useEffect(() => {
    if (range.key === "custom") return;
    const t = setInterval(() => setTick((x) => x + 1), 15_000);
    return () => clearInterval(t);
  }, [range.key]);

  useEffect(() => {
    if (!machineId || picked.length === 0) return;
    let cancelled = false;
    const [from, to] = range.key === "custom" ? [range.from, range.to] : rangeBounds(range.key, scale);
    const points = bucketCount(Math.max(400, window.innerWidth - 140));
    Promise.all(picked.map((s) => api.history(machineId, s, from, to, points).then((r) => [s, r] as const)))
      .then((pairs) => {
        if (cancelled) return;
        setData(Object.fromEntries(pairs));
        setError(null);
      })
      .catch((e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)));
    Promise.all([api.eventsBetween(machineId, from, to), api.alarms({ machine_id: machineId })])
      .then(([events, alarms]) => !cancelled && setLog({ events, alarms, from, to }))
      .catch((e: unknown) => !cancelled && setError(`events: ${e instanceof Error ? e.message : String(e)}`));
    return () => {
      cancelled = true;
    };
  }, [machineId, picked, range, tick, scale]);

  const allMarkers = useMemo(() => (log ? markersOf(log.events, log.alarms, log.from, log.to) : []), [log]);
  const counts = useMemo(() => countByKind(allMarkers), [allMarkers]);
  const markers = useMemo(() => allMarkers.filter((mk) => !hidden.has(mk.kind)), [allMarkers, hidden]);
  const toggleMarker = (kind: MarkerKind): void =>
    setHidden((h) => {
      const next = new Set(h);
      if (next.has(kind)) next.delete(kind);
      else next.add(kind);
      return next;
    });
  const shownSpecs = specs.filter((s) => picked.includes(s.key));
  const colorOf = (s: SensorSpec): string => COLORS[specs.indexOf(s) % COLORS.length] ?? "#38bdf8";

  const choose = (key: RangeKey): void => {
    if (key === "custom") {
      setRange((r) => ({ ...r, key: "custom" }));
      return;
    }
    const [from, to] = rangeBounds(key, scale);
    setStack([]);
    setRange({ key, from, to });
  };
  const zoomTo = (from: Date, to: Date): void => {
    setStack((s) => [...s, range]);
    setRange({ key: "custom", from, to });
  };
  const back = (): void => {
    setStack((s) => {
      const prev = s[s.length - 1];
      if (prev) setRange(prev);
      return s.slice(0, -1);
    });
  };

  return (
    <div className="scroll" data-testid="history">
      <div className="card" style={{ marginBottom: 14 }}>
        <div className="hist-controls">
          <select value={machineId} onChange={(e) => onMachine(e.target.value)} data-testid="history-machine">
            {info.layout.lines.map((l) => (
              <optgroup key={l.id} label={l.name}>
                {info.layout.machines
                  .filter((x) => x.line === l.id)
                  .map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.name} ({x.id})
                    </option>
                  ))}
              </optgroup>
            ))}
          </select>
          <div className="seg" data-testid="history-range">
            {(["15m", "1h", "24h", "7d", "custom"] as RangeKey[]).map((k) => (
              <button key={k} className={range.key === k ? "on" : ""} onClick={() => choose(k)}>
                {k === "custom" ? "Custom" : RANGE_LABEL[k]}
              </button>
            ))}
          </div>
          {range.key === "custom" && (
            <>
              <input
                type="datetime-local"
                value={toLocalInput(range.from)}
                onChange={(e) => {
                  const at = fromLocalInput(e.target.value);
                  if (at) setRange((r) => ({ ...r, from: at }));
                }}
              />
              <span className="muted">to</span>
              <input
                type="datetime-local"
                value={toLocalInput(range.to)}
                onChange={(e) => {
                  const at = fromLocalInput(e.target.value);
                  if (at) setRange((r) => ({ ...r, to: at }));
                }}
              />
            </>
          )}
          {stack.length > 0 && (
            <button className="btn sm" onClick={back}>
              ⤺ Zoom out
            </button>
          )}
          <span className="faint">drag on a chart to zoom · double-click to go back</span>
          {range.key !== "custom" && machineTimeNote(range.key, scale) && (
            <span className="pill time-scale" data-testid="history-machine-time">
              {machineTimeNote(range.key, scale)}
            </span>
          )}
        </div>
        <div className="hist-controls" style={{ paddingTop: 0 }}>
          {specs.map((s) => (
            <span
              key={s.key}
              className={`chip${picked.includes(s.key) ? " on" : ""}`}
              onClick={() => toggle(s.key)}
              data-testid={`history-sensor-${s.key}`}
            >
              {s.label}
            </span>
          ))}
          <span
            className={`chip${combined ? " on" : ""}`}
            onClick={() => setCombined((c) => !c)}
            data-testid="history-combine"
            title="the picked sensors on one chart, an axis per unit"
          >
            One chart
          </span>
        </div>
        <div
          className="hist-controls"
          style={{ paddingTop: 0 }}
          data-testid="history-markers"
          data-count={markers.length}
        >
          <span className="faint">Markers:</span>
          {MARKER_KINDS.map((k) => (
            <span
              key={k}
              className={`chip${hidden.has(k) ? "" : " on"}`}
              onClick={() => toggleMarker(k)}
              data-testid={`history-marker-${k}`}
              data-count={counts[k]}
            >
              <span className="dot" style={{ background: MARKER_COLOR[k] }} /> {MARKER_LABEL[k]} ({counts[k]})
            </span>
          ))}
        </div>
        {markers.length > 0 && (
          <details className="hist-controls" style={{ paddingTop: 0 }}>
            <summary className="faint">What the markers are ({markers.length})</summary>
            <ul className="marker-list" data-testid="history-marker-list">
              {markers
                .slice(-50)
                .reverse()
                .map((mk, i) => (
                  <li key={i} data-kind={mk.kind}>
                    <span className="dot" style={{ background: MARKER_COLOR[mk.kind] }} /> {formatDay(mk.t * 1000)}{" "}
                    {formatClock(mk.t * 1000)} — {mk.text}
                  </li>
                ))}
            </ul>
          </details>
        )}
      </div>
      {error && (
        <div className="card empty" style={{ color: "#fca5a5", marginBottom: 14 }}>
          Could not load history: {error}
        </div>
      )}
      {combined && shownSpecs.length > 0 ? (
        <CombinedChart
          key={machineId}
          specs={shownSpecs}
          series={data}
          colors={shownSpecs.map(colorOf)}
          markers={markers}
          onZoom={zoomTo}
          onReset={back}
        />
      ) : (
        <div className="grid">
          {shownSpecs.map((s) => (
            <HistoryChart
              key={`${machineId}-${s.key}`}
              series={data[s.key] ?? null}
              spec={s}
              color={colorOf(s)}
              markers={markers}
              onZoom={zoomTo}
              onReset={back}
            />
          ))}
        </div>
      )}
    </div>
  );
}
