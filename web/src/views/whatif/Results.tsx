// A finished job's results: the plant per scenario against the baseline (interval charts), the paired
// differences, and per machine a table and its survival curve.

import { useMemo, useState } from "react";
import type { ScenarioJob, ScenarioOutcome, WhatIfResult } from "../../api/types";
import { DiffCell, DifferenceTable } from "./DifferenceTable";
import { FanChart } from "./FanChart";
import { fmt, IntervalChart } from "./IntervalChart";
import { SurvivalChart } from "./SurvivalChart";

const PLANT: { key: "failures" | "downtime_h" | "output_h" | "maintenance_cost"; title: string; unit: string }[] = [
  { key: "failures", title: "Failures", unit: "count" },
  { key: "downtime_h", title: "Downtime", unit: "h" },
  { key: "output_h", title: "Output", unit: "running h × speed" },
  { key: "maintenance_cost", title: "Maintenance cost", unit: "repairs + visits" },
];

export function Results({ job, result }: { job: ScenarioJob; result: WhatIfResult }) {
  const outcomes: ScenarioOutcome[] = useMemo(() => [result.baseline, ...result.scenarios], [result]);
  const ids = result.baseline.machines.map((m) => m.machine_id);
  const [machine, setMachine] = useState<string>(() => worstMachine(result) ?? ids[0] ?? "");
  const curves = useMemo(
    () =>
      outcomes.flatMap((o) => {
        const m = o.machines.find((x) => x.machine_id === machine);
        return m ? [{ name: o.name, outcome: m }] : [];
      }),
    [outcomes, machine],
  );
  const plantFans = useMemo(() => outcomes.map((o) => ({ name: o.name, fan: o.plant.fan })), [outcomes]);
  const machineFans = useMemo(() => curves.map((c) => ({ name: c.name, fan: c.outcome.fan })), [curves]);
  return (
    <div className="whatif-results" data-testid="whatif-results" data-job={job.id}>
      <div className="faint whatif-note">
        {result.runs} runs of {result.horizon_h} h per scenario, seed {result.seed}, in {result.wall_s.toFixed(1)} s.
        Output is running hours × speed (no production model yet).
      </div>
      <div className="grid whatif-plant">
        {PLANT.map((q) => (
          <IntervalChart
            key={q.key}
            title={q.title}
            unit={q.unit}
            testId={`plant-${q.key}`}
            rows={outcomes.map((o) => ({ name: o.name, spread: o.plant[q.key] }))}
          />
        ))}
      </div>
      <div className="grid whatif-plant">
        {PLANT.map((q) => (
          <FanChart
            key={q.key}
            title={`Plant ${q.title.toLowerCase()}`}
            unit={q.unit}
            quantity={q.key}
            fans={plantFans}
            testId={`fan-plant-${q.key}`}
          />
        ))}
      </div>
      <DifferenceTable comparisons={result.comparisons} />
      <Notes outcomes={outcomes} />
      <div className="card" data-testid="whatif-machines">
        <div className="card-h">
          Per machine: mean failures <span className="faint">(difference against the baseline [80 % interval])</span>
        </div>
        <div className="kpi-wrap">
          <table className="t">
            <thead>
              <tr>
                <th>Machine</th>
                <th className="r">baseline</th>
                {result.comparisons.map((c) => (
                  <th key={c.name} className="r">
                    {c.name}
                  </th>
                ))}
                <th className="r">P(fail) base</th>
              </tr>
            </thead>
            <tbody>
              {result.baseline.machines.map((m) => (
                <tr
                  key={m.machine_id}
                  className={m.machine_id === machine ? "sel" : undefined}
                  onClick={() => setMachine(m.machine_id)}
                  style={{ cursor: "pointer" }}
                  data-testid={`whatif-machine-${m.machine_id}`}
                >
                  <td>{m.machine_id}</td>
                  <td className="r num">{fmt(m.failures.mean)}</td>
                  {result.comparisons.map((c) => {
                    const d = c.machine_failures[m.machine_id];
                    return d ? (
                      <DiffCell key={c.name} d={d} />
                    ) : (
                      <td key={c.name} className="r faint">
                        —
                      </td>
                    );
                  })}
                  <td className="r num">{Math.round(m.time_to_failure.p_failure * 100)} %</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {machine && (
        <div className="grid whatif-plant">
          <SurvivalChart machineId={machine} curves={curves} />
          {PLANT.map((q) => (
            <FanChart
              key={q.key}
              title={`${machine} ${q.title.toLowerCase()}`}
              unit={q.unit}
              quantity={q.key}
              fans={machineFans}
              testId={`fan-machine-${q.key}`}
            />
          ))}
        </div>
      )}
    </div>
  );
}

/** Per scenario, what of its plan was not done as asked (visits that waited, or could not start in the horizon). */
function Notes({ outcomes }: { outcomes: ScenarioOutcome[] }) {
  return (
    <div className="card" data-testid="whatif-notes">
      <div className="card-h">
        Notes <span className="faint">(what of each plan was not done as asked)</span>
      </div>
      {outcomes.map((o, i) => {
        const notes = o.notes ?? [];
        return (
          <div key={i} data-testid={`whatif-notes-${i}`} data-count={notes.length}>
            <div className="whatif-notes-h">
              {o.name}
              {notes.length === 0 && <span className="faint"> — no notes</span>}
            </div>
            {notes.length > 0 && (
              <ul className="whatif-notes">
                {notes.map((n, k) => (
                  <li key={k}>{n}</li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
    </div>
  );
}

/** The machine most likely to fail under the baseline: the one worth looking at first. */
function worstMachine(result: WhatIfResult): string | null {
  let best: string | null = null;
  let p = -1;
  for (const m of result.baseline.machines) {
    if (m.time_to_failure.p_failure > p) {
      p = m.time_to_failure.p_failure;
      best = m.machine_id;
    }
  }
  return best;
}
