// A tiny live line chart (uPlot) of a sensor's recent values, with its normal band shaded.

import { useEffect, useLayoutEffect, useRef } from "react";
import uPlot from "uplot";
import type { SeriesBuffer } from "../state/reducer";

interface Props {
  data: SeriesBuffer | undefined;
  normal: [number, number];
  color?: string;
  height?: number;
}

export function Sparkline({ data, normal, color = "#f59e0b", height = 34 }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const band = useRef(normal);
  useLayoutEffect(() => {
    band.current = normal; // read by uPlot's range function, set up once per chart
  });

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(50, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      axes: [{ show: false }, { show: false }],
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            const [lo, hi] = band.current;
            const a = Math.min(min ?? lo, lo);
            const b = Math.max(max ?? hi, hi);
            const pad = (b - a) * 0.08 || 1;
            return [a - pad, b + pad];
          },
        },
      },
      series: [{}, { stroke: color, width: 1.5, points: { show: false } }],
      hooks: {
        drawClear: [
          (u) => {
            const [lo, hi] = band.current;
            const y0 = u.valToPos(hi, "y", true);
            const y1 = u.valToPos(lo, "y", true);
            u.ctx.save();
            u.ctx.fillStyle = "rgba(34, 197, 94, 0.09)";
            u.ctx.fillRect(u.bbox.left, y0, u.bbox.width, y1 - y0);
            u.ctx.restore();
          },
        ],
      },
    };
    const p = new uPlot(opts, [[], []], el);
    plot.current = p;
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(50, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, [color, height]);

  useEffect(() => {
    plot.current?.setData([data?.t ?? [], data?.v ?? []]);
  }, [data]);

  return <div ref={host} className="spark" />;
}
