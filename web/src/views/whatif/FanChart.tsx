// A fan chart (uPlot): one running total over the horizon per scenario, its median as a line and the 80 % band of
// the runs shaded, the baseline first (grey), every scenario on the same axes.

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import type { Fan } from "../../api/types";
import { scenarioColor } from "./IntervalChart";

export type FanKey = "failures" | "downtime_h" | "output_h" | "maintenance_cost";

interface Props {
  title: string;
  unit: string;
  quantity: FanKey;
  fans: { name: string; fan: Fan }[];
  testId: string;
}

/** uPlot's columns: hours (0 first), then per scenario its p10, p50, p90 (every total starts at 0). */
export function fanColumns(fans: { fan: Fan }[], quantity: FanKey): uPlot.AlignedData {
  const t = [0, ...(fans[0]?.fan.t_h ?? [])];
  const cols: number[][] = [t];
  for (const { fan } of fans) {
    const b = fan[quantity];
    cols.push([0, ...b.p10], [0, ...b.p50], [0, ...b.p90]);
  }
  return cols as uPlot.AlignedData;
}

function rgba(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

export function FanChart({ title, unit, quantity, fans, testId }: Props) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || fans.length === 0) return;
    const series: uPlot.Series[] = [{ label: "h" }];
    const bands: uPlot.Band[] = [];
    fans.forEach(({ name }, i) => {
      const color = scenarioColor(i);
      const base = 1 + 3 * i;
      series.push(
        { label: `${name} p10`, stroke: rgba(color, 0.35), width: 0.5, points: { show: false } },
        { label: name, stroke: color, width: i === 0 ? 2 : 1.5, points: { show: false } },
        { label: `${name} p90`, stroke: rgba(color, 0.35), width: 0.5, points: { show: false } },
      );
      bands.push({ series: [base + 2, base], fill: rgba(color, 0.14) });
    });
    const height = 170;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [
        { stroke: "#94a3b8", grid: { stroke: "#1f2937" }, size: 28 },
        { stroke: "#94a3b8", grid: { stroke: "#1f2937" }, size: 60 },
      ],
      series,
      bands,
    };
    const plot = new uPlot(opts, fanColumns(fans, quantity), el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [fans, quantity]);
  return (
    <div className="card whatif-fan" data-testid={testId} data-points={fans[0]?.fan.t_h.length ?? 0}>
      <div className="card-h">
        {title} <span className="faint">({unit}, running total over hours from now: median, 80 % band)</span>
      </div>
      <div className="whatif-fan-legend">
        {fans.map(({ name }, i) => (
          <span key={name}>
            <i style={{ background: scenarioColor(i) }} /> {name}
          </span>
        ))}
      </div>
      <div ref={host} />
    </div>
  );
}
