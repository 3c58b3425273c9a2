// One sensor's history as a band: min..max shaded, the average drawn, its normal band tinted, the markers across.
// Dragging across it zooms in (the caller asks the server for finer buckets); double-click goes back.

import { useCallback, useEffect, useLayoutEffect, useRef } from "react";
import uPlot from "uplot";
import type { HistorySeries, SensorSpec } from "../api/types";
import type { Marker } from "../annotations";
import { formatClock, formatDay, formatUnit } from "../format";
import { TIME_AXIS_SPACE, timeAxisLabels, toColumns } from "../history";
import { toDisplay, unitPrefs } from "../units";
import { drawMarkers } from "./CombinedChart";
import { mountPlot } from "./plot";

export function HistoryChart({
  title,
  testId,
  series,
  spec,
  color,
  markers,
  onZoom,
  onReset,
}: {
  /** The heading (the sensor's label when absent: a chart of the primary machine). */
  title?: string;
  testId: string;
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
        { ...axis, space: TIME_AXIS_SPACE, values: (_u, splits, _i, _space, incr) => timeAxisLabels(splits, incr) },
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
    return mountPlot(opts, [[], [], [], []], el, 220, plot, () => reset.current());
  }, [spec, color, convert]);

  useEffect(() => {
    if (plot.current && series) plot.current.setData(toColumns(series.buckets, convert, series));
  }, [series, convert]);

  useEffect(() => {
    const p = plot.current;
    if (p && p.data[0].length > 0) p.redraw(); // an empty chart has no axes to draw over yet
  }, [markers]);

  const n = series?.buckets.length ?? 0;
  const count = series?.buckets.reduce((s, b) => s + b.count, 0) ?? 0;
  return (
    <div className="card hist-chart" data-testid={testId} data-points={n}>
      <div className="title">
        <b style={{ color: "var(--text)" }}>{title ?? spec.label}</b>
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
