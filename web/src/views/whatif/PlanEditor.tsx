// One scenario's plan: speed changes (machine or line, over a window), visits added / moved / removed, machines out
// of service, technicians. Hours count from the scenario's start.

import { useFactory } from "../../context";
import type { OutageDraft, PlanDraft, SpeedDraft, VisitDraft } from "../../whatif";

interface Props {
  index: number;
  plan: PlanDraft;
  horizonH: number;
  onChange: (p: PlanDraft) => void;
  onRemove: (() => void) | null;
}

function num(v: string, fallback: number): number {
  const n = Number(v);
  return v.trim() === "" || !Number.isFinite(n) ? fallback : n;
}

export function PlanEditor({ index, plan, horizonH, onChange, onRemove }: Props) {
  const { layout } = useFactory();
  const machines = layout.machines;
  const first = machines[0]?.id ?? "";
  const set = <K extends keyof PlanDraft>(key: K, value: PlanDraft[K]): void => onChange({ ...plan, [key]: value });
  const edit = <T,>(list: T[], i: number, item: T): T[] => list.map((x, k) => (k === i ? item : x));
  const drop = <T,>(list: T[], i: number): T[] => list.filter((_, k) => k !== i);
  const machineOptions = machines.map((m) => (
    <option key={m.id} value={m.id}>
      {m.id}
    </option>
  ));
  const tid = (what: string, i: number): string => `plan-${index}-${what}-${i}`;

  return (
    <div className="card whatif-plan" data-testid={`plan-${index}`}>
      <div className="whatif-plan-h">
        <input
          className="whatif-name"
          value={plan.name}
          onChange={(e) => set("name", e.target.value)}
          aria-label="scenario name"
          data-testid={`plan-${index}-name`}
        />
        <label className="faint">
          technicians{" "}
          <input
            type="number"
            min={1}
            max={100}
            value={plan.technicians}
            onChange={(e) => set("technicians", Math.max(1, Math.round(num(e.target.value, 2))))}
            className="whatif-num"
          />
        </label>
        {onRemove && (
          <button className="btn" onClick={onRemove} data-testid={`plan-${index}-remove`}>
            Remove
          </button>
        )}
      </div>

      <div className="whatif-section">Speed</div>
      {plan.speeds.map((s, i) => (
        <div className="whatif-row" key={i} data-testid={tid("speed", i)}>
          <select
            value={s.target}
            onChange={(e) => set("speeds", edit<SpeedDraft>(plan.speeds, i, { ...s, target: e.target.value }))}
            aria-label="machine or line"
          >
            {layout.lines.map((l) => (
              <option key={l.id} value={`line:${l.id}`}>
                line {l.id}
              </option>
            ))}
            {machines.map((m) => (
              <option key={m.id} value={`machine:${m.id}`}>
                {m.id}
              </option>
            ))}
          </select>
          <input
            type="number"
            min={0}
            max={120}
            value={s.pct}
            onChange={(e) => set("speeds", edit(plan.speeds, i, { ...s, pct: num(e.target.value, 100) }))}
            className="whatif-num"
            aria-label="speed %"
            data-testid={tid("speed-pct", i)}
          />
          % from h
          <Hours value={s.fromH} onChange={(h) => set("speeds", edit(plan.speeds, i, { ...s, fromH: h ?? 0 }))} />
          to h
          <Hours value={s.toH} end onChange={(h) => set("speeds", edit(plan.speeds, i, { ...s, toH: h }))} />
          <button className="btn" onClick={() => set("speeds", drop(plan.speeds, i))} aria-label="remove">
            ×
          </button>
        </div>
      ))}
      <button
        className="btn"
        data-testid={`plan-${index}-add-speed`}
        onClick={() =>
          set("speeds", [
            ...plan.speeds,
            {
              target: layout.lines[0] ? `line:${layout.lines[0].id}` : `machine:${first}`,
              pct: 80,
              fromH: 0,
              toH: null,
            },
          ])
        }
      >
        + speed
      </button>

      <div className="whatif-section">Maintenance visits</div>
      {plan.visits.map((v, i) => (
        <div className="whatif-row" key={i} data-testid={tid("visit", i)}>
          <select
            value={v.action}
            onChange={(e) =>
              set("visits", edit<VisitDraft>(plan.visits, i, { ...v, action: e.target.value as VisitDraft["action"] }))
            }
            aria-label="action"
          >
            <option value="add">add a visit</option>
            <option value="move">move the next visit</option>
            <option value="remove">remove the next visit</option>
          </select>
          <select
            value={v.machine}
            onChange={(e) => set("visits", edit(plan.visits, i, { ...v, machine: e.target.value }))}
          >
            {machineOptions}
          </select>
          {v.action !== "remove" && (
            <>
              at h
              <Hours value={v.atH} onChange={(h) => set("visits", edit(plan.visits, i, { ...v, atH: h ?? 0 }))} />
            </>
          )}
          <button className="btn" onClick={() => set("visits", drop(plan.visits, i))} aria-label="remove">
            ×
          </button>
        </div>
      ))}
      <button
        className="btn"
        onClick={() =>
          set("visits", [...plan.visits, { action: "add", machine: first, atH: Math.min(1, horizonH / 2), hours: 4 }])
        }
      >
        + visit
      </button>

      <div className="whatif-section">Out of service</div>
      {plan.outages.map((o, i) => (
        <div className="whatif-row" key={i} data-testid={tid("outage", i)}>
          <select
            value={o.machine}
            onChange={(e) => set("outages", edit<OutageDraft>(plan.outages, i, { ...o, machine: e.target.value }))}
            data-testid={tid("outage-machine", i)}
          >
            {machineOptions}
          </select>
          from h
          <Hours value={o.fromH} onChange={(h) => set("outages", edit(plan.outages, i, { ...o, fromH: h ?? 0 }))} />
          to h
          <Hours value={o.toH} end onChange={(h) => set("outages", edit(plan.outages, i, { ...o, toH: h }))} />
          <button className="btn" onClick={() => set("outages", drop(plan.outages, i))} aria-label="remove">
            ×
          </button>
        </div>
      ))}
      <button
        className="btn"
        data-testid={`plan-${index}-add-outage`}
        onClick={() => set("outages", [...plan.outages, { machine: first, fromH: 0, toH: null }])}
      >
        + out of service
      </button>
    </div>
  );
}

/** Hours from the start; with `end`, empty means "to the end of the horizon". */
function Hours({ value, end, onChange }: { value: number | null; end?: true; onChange: (h: number | null) => void }) {
  return (
    <input
      type="number"
      min={0}
      step="any"
      className="whatif-num"
      placeholder={end ? "end" : "0"}
      value={value ?? ""}
      onChange={(e) => onChange(e.target.value.trim() === "" ? (end ? null : 0) : num(e.target.value, 0))}
    />
  );
}
