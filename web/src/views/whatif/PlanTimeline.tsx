// One plan on a timeline: the horizon as the x axis (hours from the job's start, day ticks), a row per line or
// machine the plan touches (and any machine added), each speed change as a bar with its %, each out-of-service
// interval hatched and each added or moved visit as a block that is dragged (or moved with the arrow keys) to another
// whole hour. It edits the same plan as the form rows (PlanEditor): one source of truth.

import { useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import { useFactory } from "../../context";
import { dragTo, hourToX, pxPerHour, span, stepTo, ticks, timelineRows } from "../../planTimeline";
import { splitTarget, type PlanDraft } from "../../whatif";

interface Props {
  index: number;
  plan: PlanDraft;
  horizonH: number;
  /** A visit moved to another start (hours from the job's start). */
  onMoveVisit: (i: number, atH: number) => void;
  /** A visit added to a machine (from its row). */
  onAddVisit: (machine: string) => void;
}

interface Drag {
  i: number;
  pointer: number;
  x0: number;
  fromH: number;
}

export function PlanTimeline({ index, plan, horizonH, onMoveVisit, onAddVisit }: Props) {
  const { layout } = useFactory();
  const [extra, setExtra] = useState<string[]>([]);
  const drag = useRef<Drag | null>(null);
  const scale = pxPerHour(horizonH);
  const width = Math.ceil(hourToX(horizonH, scale));
  const rows = timelineRows(plan, extra);
  const free = layout.machines.filter((m) => !rows.includes(`machine:${m.id}`));
  const tid = (what: string): string => `plan-${index}-tl-${what}`;
  const x = (h: number): number => hourToX(h, scale);

  const down = (e: PointerEvent<HTMLDivElement>, i: number, atH: number): void => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    e.currentTarget.focus();
    drag.current = { i, pointer: e.pointerId, x0: e.clientX, fromH: atH };
  };
  const move = (e: PointerEvent<HTMLDivElement>, hours: number, atH: number): void => {
    const d = drag.current;
    if (!d || d.pointer !== e.pointerId) return;
    const h = dragTo(d.fromH, e.clientX - d.x0, scale, hours, horizonH);
    if (h !== atH) onMoveVisit(d.i, h);
  };
  const up = (e: PointerEvent<HTMLDivElement>): void => {
    if (drag.current?.pointer === e.pointerId) drag.current = null;
  };
  const key = (e: KeyboardEvent<HTMLDivElement>, i: number, hours: number, atH: number): void => {
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowUp: 1, ArrowDown: -1, PageUp: 24, PageDown: -24 }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const h = stepTo(atH, step, hours, horizonH);
    if (h !== atH) onMoveVisit(i, h);
  };

  return (
    <div className="whatif-tl" data-testid={tid("box")}>
      <div className="whatif-tl-scroll">
        <div className="whatif-tl-grid" style={{ width: width + LABEL_W }}>
          <div className="whatif-tl-row whatif-tl-axis">
            <div className="whatif-tl-label faint">h from start</div>
            <div className="whatif-tl-track" style={{ width }}>
              {ticks(horizonH).map((t) => (
                <span key={t.h} className={t.day ? "whatif-tl-tick day" : "whatif-tl-tick"} style={{ left: x(t.h) }}>
                  {t.label}
                </span>
              ))}
            </div>
          </div>
          {rows.length === 0 && <div className="faint whatif-tl-empty">Nothing planned yet: add a row below.</div>}
          {rows.map((row) => {
            const [scope, id] = splitTarget(row);
            return (
              <div className="whatif-tl-row" key={row} data-testid={tid(`row-${id}`)}>
                <div className="whatif-tl-label" title={row}>
                  <span>{scope === "line" ? `line ${id}` : id}</span>
                  {scope === "machine" && (
                    <button
                      className="btn whatif-tl-add"
                      onClick={() => onAddVisit(id)}
                      aria-label={`add a visit to ${id}`}
                      title={`add a visit to ${id}`}
                    >
                      +
                    </button>
                  )}
                </div>
                <div className="whatif-tl-track" style={{ width }}>
                  {ticks(horizonH)
                    .filter((t) => t.day && t.h > 0)
                    .map((t) => (
                      <i key={t.h} className="whatif-tl-day" style={{ left: x(t.h) }} />
                    ))}
                  {plan.speeds.map((s, i) => {
                    const sp = s.target === row ? span(s.fromH, s.toH, horizonH) : null;
                    return (
                      sp && (
                        <div
                          key={`s${i}`}
                          className="whatif-tl-speed"
                          style={{ left: x(sp[0]), width: Math.max(2, x(sp[1]) - x(sp[0])) }}
                          title={`${s.pct} % from h ${sp[0]} to h ${sp[1]}`}
                          data-testid={tid(`speed-${i}`)}
                        >
                          {s.pct} %
                        </div>
                      )
                    );
                  })}
                  {plan.outages.map((o, i) => {
                    const sp = `machine:${o.machine}` === row ? span(o.fromH, o.toH, horizonH) : null;
                    return (
                      sp && (
                        <div
                          key={`o${i}`}
                          className="whatif-tl-out"
                          style={{ left: x(sp[0]), width: Math.max(2, x(sp[1]) - x(sp[0])) }}
                          title={`out of service from h ${sp[0]} to h ${sp[1]}`}
                          data-testid={tid(`outage-${i}`)}
                        />
                      )
                    );
                  })}
                  {plan.visits.map((v, i) => {
                    if (`machine:${v.machine}` !== row || v.action === "remove") return null;
                    const what = v.action === "add" ? "visit" : "moved visit";
                    const w = Math.max(8, x(v.hours));
                    return (
                      <div
                        key={`v${i}`}
                        className={`whatif-tl-visit ${v.action}`}
                        style={{ left: x(v.atH), width: w }}
                        role="slider"
                        tabIndex={0}
                        aria-label={`${what} to ${v.machine}, ${v.hours} h, starts at hour`}
                        aria-valuemin={0}
                        aria-valuemax={Math.max(0, horizonH - v.hours)}
                        aria-valuenow={v.atH}
                        title={`${what}: h ${v.atH} for ${v.hours} h (drag, or arrow keys)`}
                        data-testid={tid(`visit-${i}`)}
                        data-at={v.atH}
                        onPointerDown={(e) => down(e, i, v.atH)}
                        onPointerMove={(e) => move(e, v.hours, v.atH)}
                        onPointerUp={up}
                        onPointerCancel={up}
                        onKeyDown={(e) => key(e, i, v.hours, v.atH)}
                      >
                        {w >= 44 ? `${v.hours} h` : ""}
                      </div>
                    );
                  })}
                </div>
              </div>
            );
          })}
        </div>
      </div>
      <div className="whatif-tl-foot faint">
        {free.length > 0 && (
          <select
            value=""
            onChange={(e) => e.target.value && setExtra([...extra, `machine:${e.target.value}`])}
            aria-label="add a row for a machine"
            data-testid={tid("add-row")}
          >
            <option value="">+ row for a machine…</option>
            {free.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        )}
        <span>drag a visit (or focus it and press ← →) to move it by whole hours</span>
      </div>
    </div>
  );
}

/** The row labels' column, in pixels (it stays in view while the track scrolls). */
const LABEL_W = 96;
