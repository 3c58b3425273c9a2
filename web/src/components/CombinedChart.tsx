// Several series on one History chart, of one machine or several: the average of each, one y axis per display
// unit (left, right, left, ...) or, normalised, one 0..1 axis where each series spans its machine's normal band.
// The primary machine's markers go across it. Drag zooms like the single charts; double-click goes back.

import { useEffect, useLayoutEffect, useRef } from "react";
import uPlot from "uplot";
import { type Marker, MARKER_COLOR } from "../annotations";
import { type ChartLine, lineColumns, lineLabel, scalesOf } from "../chartLines";
import { formatClock, formatDay, formatUnit } from "../format";
import { TIME_AXIS_SPACE, timeAxisLabels } from "../history";
import { unitPrefs } from "../units";
import { mountPlot } from "./plot";

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

const NORMAL_AXIS = "normal band: 0 low, 1 high";

/** The normalised axis always shows the whole band (0..1), and further where a series leaves it. */
function normalRange(u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  const [lo, hi] = unitRange(u, Math.min(0, min ?? 0), Math.max(1, max ?? 1));
  return [lo, hi];
}

/** uPlot's drawClear hook of the normalised chart: the normal band (0..1) tinted, as on the single charts. */
function drawNormalBand(u: uPlot): void {
  const a = u.valToPos(1, "normal", true);
  const b = u.valToPos(0, "normal", true);
  const top = Math.max(u.bbox.top, Math.min(a, b));
  const bottom = Math.min(u.bbox.top + u.bbox.height, Math.max(a, b));
  if (!(bottom > top)) return;
  u.ctx.save();
  u.ctx.fillStyle = "rgba(34, 197, 94, 0.07)";
  u.ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
  u.ctx.restore();
}

export function CombinedChart({
  lines,
  normalised,
  markers,
  onZoom,
  onReset,
}: {
  /** Memoised by the caller on its loaded data: a new array rebuilds the chart. */
  lines: ChartLine[];
  /** One 0..1 axis (each series over its normal band) instead of an axis per unit. */
  normalised: boolean;
  markers: Marker[];
  onZoom: (from: Date, to: Date) => void;
  onReset: () => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const prefs = unitPrefs();
  const scales = scalesOf(lines, normalised, prefs);
  const zoom = useRef(onZoom);
  const reset = useRef(onReset);
  const marks = useRef(markers);
  const first = lines.find((l) => l.series)?.series ?? null;
  const span = useRef(first);
  useLayoutEffect(() => {
    zoom.current = onZoom;
    reset.current = onReset;
    marks.current = markers;
    span.current = first;
  });
  const labels = lines.map((l) => lineLabel(l, normalised, prefs));
  const shape = lines.map((l) => `${l.id}=${l.color}`).join(",") + "|" + scales.join(",") + "|" + labels.join(",");

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
        ...Object.fromEntries(scales.map((u) => [u, { auto: true, range: normalised ? normalRange : unitRange }])),
      },
      axes: [
        { ...axis, space: TIME_AXIS_SPACE, values: (_u, splits, _i, _space, incr) => timeAxisLabels(splits, incr) },
        ...scales.map((u, i) => ({
          ...axis,
          scale: u,
          side: i % 2 === 0 ? 3 : 1,
          size: 64,
          label: normalised ? NORMAL_AXIS : formatUnit(u),
          grid: { show: i === 0, stroke: "#222935", width: 1 },
        })),
      ],
      series: [
        { value: (_u, v) => (v == null ? "—" : `${formatDay(v * 1000)} ${formatClock(v * 1000)}`) },
        ...lines.map((l, i) => ({
          label: labels[i],
          scale: normalised ? "normal" : scalesOf([l], false, prefs)[0],
          stroke: l.color,
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
        drawClear: normalised ? [drawNormalBand] : [],
      },
    };
    const joined = joinColumns(lines.map((l) => lineColumns(l, normalised, prefs)));
    if (joined[0].length === 0) return; // nothing to draw yet: uPlot's axes need data
    return mountPlot(opts, joined, el, 300, plot, () => reset.current());
    // rebuilt with each load of the data (every 15 s at most: the caller memoises `lines` on its data); markers
    // only redraw it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, normalised, lines]);

  useEffect(() => {
    const p = plot.current;
    if (p && p.data[0].length > 0) p.redraw(); // an empty chart has no axes to draw over yet
  }, [markers]);

  const points = lines.reduce((n, l) => n + (l.series?.buckets.length ?? 0), 0);
  const machines = new Set(lines.map((l) => l.machine)).size;
  return (
    <div
      className="card hist-chart"
      data-testid="history-combined"
      data-axes={scales.length}
      data-series={lines.length}
      data-series-ids={lines.map((l) => l.id).join(",")}
      data-machines={machines}
      data-mode={normalised ? "normal" : "axes"}
      data-points={points}
    >
      <div className="title">
        <b style={{ color: "var(--text)" }}>
          {lines.length} series{machines > 1 ? ` of ${machines} machines` : ""}
        </b>
        <span>{normalised ? NORMAL_AXIS : scales.map(formatUnit).join(", ")}</span>
      </div>
      <div ref={host} />
    </div>
  );
}
