// One scenario's plan: speed changes (machine or line, over a window), visits added / moved / removed (with their
// hours), machines out of service, technicians and their working hours; on a timeline (PlanTimeline) and as form rows,
// both editing the same plan. Hours count from the scenario's start.

import { useFactory } from "../../context";
import { clampVisitStart } from "../../planTimeline";
import {
  defaultWorking,
  toggleWeekday,
  WEEKDAYS,
  type OutageDraft,
  type PlanDraft,
  type SpeedDraft,
  type VisitDraft,
} from "../../whatif";
import { PlanTimeline } from "./PlanTimeline";

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
  const addVisit = (machine: string): void =>
    set("visits", [
      ...plan.visits,
      { action: "add", machine, atH: clampVisitStart(Math.min(1, horizonH / 2), 4, horizonH), hours: 4 },
    ]);
  const working = plan.working;

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

      <PlanTimeline
        index={index}
        plan={plan}
        horizonH={horizonH}
        onMoveVisit={(i, atH) => {
          const v = plan.visits[i];
          if (v) set("visits", edit(plan.visits, i, { ...v, atH }));
        }}
        onAddVisit={addVisit}
      />

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
              <Hours
                value={v.atH}
                onChange={(h) => set("visits", edit(plan.visits, i, { ...v, atH: h ?? 0 }))}
                testId={tid("visit-at", i)}
              />
            </>
          )}
          for
          <input
            type="number"
            min={0.25}
            max={72}
            step="any"
            value={v.hours}
            onChange={(e) => set("visits", edit(plan.visits, i, { ...v, hours: num(e.target.value, 4) }))}
            className="whatif-num"
            aria-label="visit hours"
            data-testid={tid("visit-hours", i)}
          />
          h
          <button className="btn" onClick={() => set("visits", drop(plan.visits, i))} aria-label="remove">
            ×
          </button>
        </div>
      ))}
      <button className="btn" onClick={() => addVisit(first)} data-testid={`plan-${index}-add-visit`}>
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

      <div className="whatif-section">Working hours (UTC; a visit starts only then)</div>
      <div className="whatif-row" data-testid={`plan-${index}-working`}>
        <label>
          <input
            type="checkbox"
            checked={working === null}
            onChange={(e) => set("working", e.target.checked ? null : defaultWorking())}
            data-testid={`plan-${index}-around-clock`}
          />{" "}
          around the clock
        </label>
        {working && (
          <>
            from
            <input
              type="number"
              min={0}
              max={23.75}
              step="any"
              value={working.fromHour}
              onChange={(e) => set("working", { ...working, fromHour: num(e.target.value, 6) })}
              className="whatif-num"
              aria-label="working hours from"
              data-testid={`plan-${index}-work-from`}
            />
            to
            <input
              type="number"
              min={0}
              max={24}
              step="any"
              value={working.toHour}
              onChange={(e) => set("working", { ...working, toHour: num(e.target.value, 22) })}
              className="whatif-num"
              aria-label="working hours to"
              data-testid={`plan-${index}-work-to`}
            />
            <span className="whatif-days">
              {WEEKDAYS.map((d, k) => (
                <label key={d}>
                  <input
                    type="checkbox"
                    checked={working.weekdays.includes(k)}
                    onChange={() => set("working", { ...working, weekdays: toggleWeekday(working.weekdays, k) })}
                    data-testid={`plan-${index}-day-${k}`}
                  />
                  {d}
                </label>
              ))}
            </span>
            {working.weekdays.length === 0 && <span className="whatif-error">no day ticked</span>}
          </>
        )}
      </div>
    </div>
  );
}

/** Hours from the start; with `end`, empty means "to the end of the horizon". */
function Hours({
  value,
  end,
  onChange,
  testId,
}: {
  value: number | null;
  end?: true;
  onChange: (h: number | null) => void;
  testId?: string;
}) {
  return (
    <input
      data-testid={testId}
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
