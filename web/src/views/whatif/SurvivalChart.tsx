// One machine's risk over the horizon per scenario: P(no failure yet) against hours from the start (uPlot).

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import type { MachineOutcome } from "../../api/types";
import { scenarioColor } from "./IntervalChart";

interface Props {
  machineId: string;
  curves: { name: string; outcome: MachineOutcome }[];
}

export function SurvivalChart({ machineId, curves }: Props) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    const first = curves[0];
    if (!el || !first) return;
    const hours = [0, ...first.outcome.time_to_failure.survival_h];
    const data: uPlot.AlignedData = [hours, ...curves.map((c) => [1, ...c.outcome.time_to_failure.survival])];
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 180,
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [
        { stroke: "#94a3b8", grid: { stroke: "#1f2937" }, label: "hours from now" },
        { stroke: "#94a3b8", grid: { stroke: "#1f2937" }, values: (_u, v) => v.map((x) => `${Math.round(x * 100)}%`) },
      ],
      series: [
        { label: "h" },
        ...curves.map((c, i) => ({
          label: c.name,
          stroke: scenarioColor(i),
          width: i === 0 ? 2 : 1.5,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${Math.round(v * 100)} %`),
        })),
      ],
    };
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [curves]);
  return (
    <div className="card" data-testid="whatif-survival" data-machine={machineId}>
      <div className="card-h">
        {machineId}: P(no failure yet) <span className="faint">(share of runs without a failure by then)</span>
      </div>
      <div ref={host} />
    </div>
  );
}
