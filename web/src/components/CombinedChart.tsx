// Several sensors of one machine on one History chart: the average of each, one y axis per unit (left, right,
// left, ...), the machine's markers across it. Drag zooms like the single charts; double-click goes back.

import { useEffect, useLayoutEffect, useRef } from "react";
import uPlot from "uplot";
import type { HistorySeries, SensorSpec } from "../api/types";
import { type Marker, MARKER_COLOR } from "../annotations";
import { formatClock, formatDay, formatUnit } from "../format";
import { timeAxisLabels, toColumns } from "../history";
import { displayUnit, toDisplay, unitPrefs } from "../units";

/** uPlot's draw hook that paints the markers as thin vertical lines across the plot. */
export function drawMarkers(u: uPlot, markers: readonly Marker[]): void {
  const { left, top, width, height } = u.bbox;
  u.ctx.save();
  u.ctx.lineWidth = Math.max(1, devicePixelRatio);
  for (const m of markers) {
    const x = u.valToPos(m.t, "x", true);
    if (x < left || x > left + width) continue;
    u.ctx.strokeStyle = MARKER_COLOR[m.kind];
    u.ctx.globalAlpha = 0.8;
    u.ctx.beginPath();
    u.ctx.moveTo(x, top);
    u.ctx.lineTo(x, top + height);
    u.ctx.stroke();
  }
  u.ctx.restore();
}

function unitRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const pad = min === max ? Math.max(1, Math.abs(min) * 0.05) : (max - min) * 0.05;
  return [min - pad, max + pad];
}

/** Series of their own timestamps on one x: the union of the times, each series null where it has no bucket. */
export function joinColumns(tables: readonly (readonly [number[], number[]])[]): uPlot.AlignedData {
  const xs = [...new Set(tables.flatMap(([t]) => t))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = tables.map(([t, v]) => {
    const col: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    t.forEach((x, i) => {
      const j = at.get(x);
      if (j !== undefined) col[j] = v[i] ?? null;
    });
    return col;
  });
  return [xs, ...ys];
}

export function CombinedChart({
  specs,
  series,
  colors,
  markers,
  onZoom,
  onReset,
}: {
  specs: SensorSpec[];
  series: Record<string, HistorySeries | null>;
  colors: string[];
  markers: Marker[];
  onZoom: (from: Date, to: Date) => void;
  onReset: () => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const prefs = unitPrefs();
  const units = [...new Set(specs.map((s) => displayUnit(s.unit, prefs)))];
  const zoom = useRef(onZoom);
  const reset = useRef(onReset);
  const marks = useRef(markers);
  const first = specs[0] ? (series[specs[0].key] ?? null) : null;
  const span = useRef(first);
  useLayoutEffect(() => {
    zoom.current = onZoom;
    reset.current = onReset;
    marks.current = markers;
    span.current = first;
  });
  const shape = specs.map((s) => s.key).join(",") + "|" + units.join(",");

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = { stroke: "#8a94a6", grid: { stroke: "#222935", width: 1 }, ticks: { stroke: "#2b3340", width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 300,
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => {
            const sr = span.current;
            return sr ? [Date.parse(sr.start) / 1000, Date.parse(sr.end) / 1000] : [min, max];
          },
        },
        // an axis whose scale has no data yet still needs a range (uPlot draws it anyway)
        ...Object.fromEntries(units.map((u) => [u, { auto: true, range: unitRange }])),
      },
      axes: [
        { ...axis, values: (_u, splits, _i, _space, incr) => timeAxisLabels(splits, incr) },
        ...units.map((u, i) => ({
          ...axis,
          scale: u,
          side: i % 2 === 0 ? 3 : 1,
          size: 64,
          label: formatUnit(u),
          grid: { show: i === 0, stroke: "#222935", width: 1 },
        })),
      ],
      series: [
        { value: (_u, v) => (v == null ? "—" : `${formatDay(v * 1000)} ${formatClock(v * 1000)}`) },
        ...specs.map((s, i) => ({
          label: `${s.label} (${formatUnit(displayUnit(s.unit, prefs))})`,
          scale: displayUnit(s.unit, prefs),
          stroke: colors[i % colors.length] ?? "#38bdf8",
          width: 2,
          points: { show: false },
          spanGaps: false,
        })),
      ],
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
      },
    };
    const tables = specs.map((s) => {
      const [t, , avg] = toColumns(series[s.key]?.buckets ?? [], (v) => toDisplay(v, s.unit, prefs));
      return [t, avg] as const;
    });
    const joined = joinColumns(tables);
    if (joined[0].length === 0) return; // nothing to draw yet: uPlot's axes need data
    const p = new uPlot(opts, joined, el);
    plot.current = p;
    const dbl = (): void => reset.current();
    p.over.addEventListener("dblclick", dbl);
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height: 300 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.over.removeEventListener("dblclick", dbl);
      p.destroy();
      plot.current = null;
    };
    // rebuilt with each load of the data (every 15 s at most); markers only redraw it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, series]);

  useEffect(() => {
    const p = plot.current;
    if (p && p.data[0].length > 0) p.redraw(); // an empty chart has no axes to draw over yet
  }, [markers]);

  const points = specs.reduce((n, s) => n + (series[s.key]?.buckets.length ?? 0), 0);
  return (
    <div
      className="card hist-chart"
      data-testid="history-combined"
      data-axes={units.length}
      data-series={specs.length}
      data-points={points}
    >
      <div className="title">
        <b style={{ color: "var(--text)" }}>{specs.map((s) => s.label).join(" · ")}</b>
        <span>{units.map(formatUnit).join(", ")}</span>
      </div>
      <div ref={host} />
    </div>
  );
}
