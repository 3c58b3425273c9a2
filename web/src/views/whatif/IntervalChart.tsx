// One quantity over the horizon, per scenario: the 80 % band of the runs (10th-90th percentile) and the mean,
// the baseline first, on a shared axis, so a scenario is read against the baseline at a glance.

import type { Spread } from "../../api/types";
import { extent } from "../../whatif";

interface Row {
  name: string;
  spread: Spread;
}

const COLORS = ["#94a3b8", "#f59e0b", "#38bdf8", "#a78bfa", "#34d399"];

export function scenarioColor(i: number): string {
  return COLORS[i % COLORS.length] ?? "#94a3b8";
}

export function IntervalChart({
  title,
  unit,
  rows,
  testId,
}: {
  title: string;
  unit: string;
  rows: Row[];
  testId: string;
}) {
  const [lo, hi] = extent(rows.map((r) => r.spread));
  const x = (v: number): number => ((v - lo) / (hi - lo)) * 100;
  return (
    <div className="card whatif-interval" data-testid={testId}>
      <div className="card-h">
        {title} <span className="faint">({unit}; bar: 80 % of runs, mark: mean)</span>
      </div>
      {rows.map((r, i) => (
        <div className="whatif-interval-row" key={r.name} data-testid={`${testId}-${i}`} data-mean={r.spread.mean}>
          <span className="whatif-interval-name" title={r.name}>
            {r.name}
          </span>
          <span className="num whatif-interval-val">
            {fmt(r.spread.mean)}{" "}
            <span className="faint">
              [{fmt(r.spread.low)}–{fmt(r.spread.high)}]
            </span>
          </span>
          <svg viewBox="0 0 100 10" preserveAspectRatio="none" className="whatif-interval-svg" aria-hidden="true">
            <rect
              x={x(r.spread.low)}
              y={2}
              width={Math.max(0.6, x(r.spread.high) - x(r.spread.low))}
              height={6}
              fill={scenarioColor(i)}
              opacity={0.35}
            />
            <rect x={x(r.spread.mean) - 0.4} y={0} width={0.8} height={10} fill={scenarioColor(i)} />
          </svg>
        </div>
      ))}
    </div>
  );
}

export function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 10_000) return `${(v / 1000).toFixed(0)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
