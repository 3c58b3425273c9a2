// Each scenario minus the baseline over paired runs (same seeds): the mean difference, its 80 % confidence
// interval, and the share of runs where the scenario came out lower. "unclear" when the interval spans zero.

import type { Comparison, Difference } from "../../api/types";
import { differenceVerdict } from "../../whatif";
import { fmt } from "./IntervalChart";

const ROWS: { key: keyof Omit<Comparison, "name" | "machine_failures">; label: string }[] = [
  { key: "failures", label: "Failures" },
  { key: "downtime_h", label: "Downtime (h)" },
  { key: "output_h", label: "Output (h at speed)" },
  { key: "maintenance_cost", label: "Maintenance cost" },
  { key: "total_cost", label: "Total cost" },
];

export function DiffCell({ d, testId }: { d: Difference; testId?: string }) {
  const verdict = differenceVerdict(d);
  return (
    <td className={`r num diff-${verdict}`} data-testid={testId} data-verdict={verdict}>
      {d.mean > 0 ? "+" : ""}
      {fmt(d.mean)}{" "}
      <span className="faint">
        [{fmt(d.low)}, {fmt(d.high)}]
      </span>
    </td>
  );
}

export function DifferenceTable({ comparisons }: { comparisons: Comparison[] }) {
  return (
    <div className="card" data-testid="whatif-differences">
      <div className="card-h">
        Against the baseline <span className="faint">(paired runs: mean difference [80 % interval])</span>
      </div>
      <div className="kpi-wrap">
        <table className="t">
          <thead>
            <tr>
              <th />
              {comparisons.map((c) => (
                <th key={c.name} className="r">
                  {c.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ROWS.map((row) => (
              <tr key={row.key}>
                <td>{row.label}</td>
                {comparisons.map((c, i) => (
                  <DiffCell key={c.name} d={c[row.key]} testId={`diff-${i}-${row.key}`} />
                ))}
              </tr>
            ))}
            <tr>
              <td className="faint">runs lower (total cost)</td>
              {comparisons.map((c) => (
                <td key={c.name} className="r num faint">
                  {Math.round(c.total_cost.p_lower * 100)} %
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
    </div>
  );
}
