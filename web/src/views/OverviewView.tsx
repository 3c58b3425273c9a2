// Fleet overview: KPIs, alarms with acknowledge (and a download), the maintenance schedule with a work order per
// visit, and a card per machine.

import { useMemo, useState } from "react";
import { api } from "../api/client";
import type { Machine, MaintenancePlan, ScheduledTask, WorkOrder } from "../api/types";
import { HealthBar, SeverityTag, StatusBadge } from "../components/Bits";
import { LastReading } from "../components/Freshness";
import { AckButton } from "../components/MachinePanel";
import { notify } from "../components/Toast";
import { routeHash } from "../route";
import { refusal, useSession } from "../session";
import { useFactory } from "../context";
import { alarmExportQuery } from "../exports";
import {
  formatAgo,
  formatClock,
  formatDay,
  formatHours,
  formatPercent,
  formatTime,
  formatValue,
  profileLabel,
  SEVERITY_COLOR,
  STATUS_COLOR,
} from "../format";
import { errorText, usePolling } from "../hooks/usePolling";
import { useStaleness } from "../hooks/useStaleness";
import { useCapabilities } from "../state/capabilities";
import { isActive } from "../state/reducer";
import { fleetKpis, SEVERITIES, sortedAlarms, STATUSES } from "../state/selectors";
import { useTwin } from "../state/store";
import { ACTIVE_STATES, ordersByVisit, STATE_LABEL, visitKey, visitWorkOrder } from "../workorders";

function Kpis() {
  const info = useFactory();
  const machines = useTwin((s) => s.machines);
  const alarms = useTwin((s) => s.alarms);
  const k = useMemo(() => fleetKpis(info.layout.machines, machines, alarms), [info, machines, alarms]);
  const { stale, asOf } = useStaleness();
  // While the stream is down each KPI says when it was last true, instead of what it means.
  const sub = (text: React.ReactNode): React.ReactNode =>
    stale && asOf !== null ? (
      <span className="asof" data-testid="kpi-asof">
        as of {formatClock(asOf)}
      </span>
    ) : (
      text
    );
  return (
    <div className={`grid kpis${stale ? " stale" : ""}`} data-testid="kpis" data-stale={stale}>
      <div className="card kpi">
        <div className="label">Running</div>
        <div className="value" style={{ color: STATUS_COLOR.running }} data-testid="kpi-running">
          {k.byStatus.running}
        </div>
        <div className="sub">{sub(<>of {k.total} machines</>)}</div>
      </div>
      <div className="card kpi">
        <div className="label">Idle / stopped</div>
        <div className="value" style={{ color: STATUS_COLOR.idle }}>
          {k.byStatus.idle}
          <span className="muted"> / {k.byStatus.stopped}</span>
        </div>
        <div className="sub">{sub(<>{k.byStatus.maintenance} in maintenance</>)}</div>
      </div>
      <div className="card kpi">
        <div className="label">Failed / offline</div>
        <div className="value" style={{ color: k.byStatus.failed ? STATUS_COLOR.failed : undefined }}>
          {k.byStatus.failed}
          <span className="muted"> / {k.byStatus.offline}</span>
        </div>
        <div className="sub">{sub(<>need attention</>)}</div>
      </div>
      <div className="card kpi">
        <div className="label">Availability</div>
        <div className="value">{formatPercent(k.availability)}</div>
        <div className="sub">{sub(<>running or idle now</>)}</div>
      </div>
      <div className="card kpi">
        <div className="label">Mean health</div>
        <div className="value">{k.meanHealth === null ? "—" : Math.round(k.meanHealth)}</div>
        <div className="sub">{sub(<>0 = failed · 100 = all values normal</>)}</div>
      </div>
      <div className="card kpi">
        <div className="label">Active alarms</div>
        <div
          className="value"
          style={{ color: k.activeAlarms ? SEVERITY_COLOR.major : undefined }}
          data-testid="kpi-alarms"
        >
          {k.activeAlarms}
        </div>
        <div className="sub">
          {sub(
            <>
              {SEVERITIES.map((s) => (
                <span key={s} style={{ color: k.alarmsBySeverity[s] ? SEVERITY_COLOR[s] : undefined, marginRight: 8 }}>
                  {k.alarmsBySeverity[s]} {s}
                </span>
              ))}
            </>,
          )}
        </div>
      </div>
      <div className="card kpi" style={{ gridColumn: "1 / -1" }}>
        <div className="label">Fleet status</div>
        <div className="statusbar">
          {STATUSES.map((s) =>
            k.byStatus[s] ? (
              <div
                key={s}
                title={`${s}: ${k.byStatus[s]}`}
                style={{ width: `${(k.byStatus[s] / Math.max(1, k.total)) * 100}%`, background: STATUS_COLOR[s] }}
              />
            ) : null,
          )}
        </div>
        <div className="legend" style={{ marginTop: 8 }}>
          {STATUSES.map((s) => (
            <span key={s}>
              <span className="dot" style={{ background: STATUS_COLOR[s] }} />
              {s} <b className="num">{k.byStatus[s]}</b>
            </span>
          ))}
        </div>
      </div>
    </div>
  );
}

/** The unit of an alarm's value: a rate-of-change rule ("rate:<sensor>") measures the sensor's unit per second. */
export function alarmValueUnit(type: string, unit: string | undefined): string {
  if (!unit) return "";
  return type.startsWith("rate:") ? `${unit}/s` : unit;
}

function AlarmsTable({ onOpen }: { onOpen: (id: string) => void }) {
  const info = useFactory();
  const alarms = useTwin((s) => s.alarms);
  const [showAll, setShowAll] = useState(false);
  const list = useMemo(() => sortedAlarms(alarms, { activeOnly: !showAll }).slice(0, 100), [alarms, showAll]);
  return (
    <div className="card" data-testid="alarms-table">
      <div className="card-h">
        Alarms
        <span className="spacer" />
        <div className="seg">
          <button className={!showAll ? "on" : ""} onClick={() => setShowAll(false)}>
            Active
          </button>
          <button className={showAll ? "on" : ""} onClick={() => setShowAll(true)}>
            All
          </button>
        </div>
        <a
          className="btn sm"
          href={api.alarmsExportHref(alarmExportQuery(!showAll, list, new Date()))}
          download
          title={`${showAll ? "Every alarm" : "The active alarms"} raised since the oldest one shown (at least the last 24 h), as CSV`}
          data-testid="alarms-csv"
        >
          CSV
        </a>
      </div>
      <div style={{ maxHeight: 360, overflow: "auto" }}>
        {list.length === 0 ? (
          <div className="empty">No {showAll ? "" : "active "}alarms</div>
        ) : (
          <table className="t">
            <thead>
              <tr>
                <th>Severity</th>
                <th>Machine</th>
                <th>Alarm</th>
                <th>Value</th>
                <th>Raised</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((a) => {
                const m = info.byId[a.machine_id];
                const spec =
                  m && a.sensor ? (info.catalogue[m.profile] ?? []).find((s) => s.key === a.sensor) : undefined;
                return (
                  <tr
                    key={a.id}
                    data-testid="alarm-row"
                    data-alarm-id={a.id}
                    data-state={a.state}
                    style={{ opacity: isActive(a) ? 1 : 0.55 }}
                  >
                    <td>
                      <SeverityTag severity={a.severity} />
                    </td>
                    <td>
                      <a
                        href="#"
                        onClick={(e) => (e.preventDefault(), onOpen(a.machine_id))}
                        style={{ color: "inherit" }}
                      >
                        {m?.name ?? a.machine_id}
                      </a>
                    </td>
                    <td>{a.message}</td>
                    <td className="num">
                      {a.value != null ? formatValue(a.value, alarmValueUnit(a.type, spec?.unit)) : ""}
                    </td>
                    <td className="num" title={a.raised_at}>
                      {formatTime(a.raised_at)} <span className="faint">({formatAgo(a.raised_at)})</span>
                    </td>
                    <td className="muted">
                      {a.state.replace("_", " ")}
                      {a.acked_by ? ` by ${a.acked_by}` : ""}
                    </td>
                    <td style={{ textAlign: "right" }}>
                      {a.state === "active_unack" || a.state === "cleared_unack" ? (
                        <AckButton id={a.id} label="Acknowledge" />
                      ) : null}
                      <WorkOrderButton alarmId={a.id} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

const POLICY_LABEL: Record<string, string> = {
  predictive: "Predictive (this plan)",
  run_to_failure: "Run to failure",
  fixed_interval: "Fixed interval",
};

function Schedule() {
  const info = useFactory();
  const { ml, activeModel } = useCapabilities();
  // Polled again when the served model changes.
  const { data: plan, error } = usePolling<MaintenancePlan>(
    ml ? `schedule@${activeModel ?? ""}` : null,
    () => api.schedule(),
    60_000,
    "maintenance schedule",
  );
  const best = plan?.policies.length ? Math.min(...plan.policies.map((p) => p.expected_cost)) : null;
  // the unfinished work orders, to show the one a visit already has in place of its button
  const [reload, setReload] = useState(0);
  const { data: open } = usePolling<WorkOrder[]>(
    plan?.status === "ok" ? `schedule-orders:${reload}` : null,
    () => {
      const q = new URLSearchParams({ limit: "1000" });
      for (const s of ACTIVE_STATES) q.append("state", s);
      return api.workOrders(q);
    },
    30_000,
    "the schedule's work orders",
  );
  const byVisit = useMemo(() => ordersByVisit(open ?? []), [open]);
  return (
    <div className="card" data-testid="schedule">
      <div className="card-h">
        Maintenance schedule
        <span className="spacer" />
        {plan?.status === "ok" && (
          <span className="faint" style={{ textTransform: "none" }}>
            next {formatHours(plan.horizon_h)}
          </span>
        )}
      </div>
      {ml === null ? (
        <div className="empty">Loading…</div>
      ) : !ml ? (
        <div className="empty">The prediction service is not running: no maintenance plan.</div>
      ) : !plan ? (
        <div className="empty" data-testid="schedule-error">
          {error ? `Could not load the maintenance plan: ${error}` : "Loading…"}
        </div>
      ) : plan.status !== "ok" ? (
        <div className="empty">No maintenance plan yet: {plan.message || "no prediction model is trained."}</div>
      ) : (
        <>
          {plan.tasks.length === 0 ? (
            <div className="empty">No visits needed in this window.</div>
          ) : (
            <table className="t">
              <thead>
                <tr>
                  <th>Machine</th>
                  <th>Shift</th>
                  <th>P(fail)</th>
                  <th>Risk avoided ({info.plant.currency})</th>
                  <th>Why</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {plan.tasks.slice(0, 20).map((t) => (
                  <tr
                    key={`${t.machine_id}-${t.shift_start}`}
                    data-testid="schedule-visit"
                    data-machine={t.machine_id}
                    data-shift={t.shift_start}
                  >
                    <td>{info.byId[t.machine_id]?.name ?? t.machine_id}</td>
                    <td className="num">{formatTime(t.shift_start)}</td>
                    <td className="num">{formatPercent(t.probability)}</td>
                    <td className="num">{formatValue(t.risk_if_deferred)}</td>
                    <td className="muted" style={{ fontSize: 11.5 }}>
                      {t.reason}
                    </td>
                    <td style={{ textAlign: "right" }}>
                      <VisitWorkOrder
                        task={t}
                        existing={byVisit.get(visitKey(t.machine_id, t.shift_start)) ?? null}
                        modelVersion={plan.model_version ?? null}
                        onCreated={() => setReload((r) => r + 1)}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {plan.policies.length > 0 && (
            <table className="t" style={{ marginTop: 6 }}>
              <thead>
                <tr>
                  <th>Policy</th>
                  <th>Expected cost ({info.plant.currency})</th>
                  <th>Failures</th>
                  <th>Visits</th>
                </tr>
              </thead>
              <tbody>
                {plan.policies.map((p) => (
                  <tr key={p.policy}>
                    <td style={{ color: p.expected_cost === best ? "#86efac" : undefined }}>
                      {POLICY_LABEL[p.policy] ?? p.policy}
                    </td>
                    <td className="num">{formatValue(p.expected_cost)}</td>
                    <td className="num">{formatValue(p.expected_failures)}</td>
                    <td className="num">{p.maintenance_visits}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

function MachineCard({ machine: m, onOpen }: { machine: Machine; onOpen: (id: string) => void }) {
  const info = useFactory();
  const st = useTwin((s) => s.machines[m.id]);
  const { stale } = useStaleness();
  return (
    <div
      className={`card mcard${stale ? " stale" : ""}`}
      onClick={() => onOpen(m.id)}
      data-testid="machine-card"
      data-machine={m.id}
    >
      <div className="top">
        <span className="nm" title={m.name}>
          {m.name}
        </span>
        <StatusBadge status={st?.status} />
      </div>
      <div className="faint" style={{ fontSize: 11.5 }}>
        {profileLabel(m.profile, info.layout.profile_names)} · {m.id}
      </div>
      <HealthBar health={st?.health} />
      <div style={{ fontSize: 11.5 }}>
        <LastReading state={st} />
      </div>
    </div>
  );
}

function MachineCards({ onOpen }: { onOpen: (id: string) => void }) {
  const info = useFactory();
  return (
    <div className="grid machine-cards">
      {info.layout.machines.map((m) => (
        <MachineCard key={m.id} machine={m} onOpen={onOpen} />
      ))}
    </div>
  );
}

export function OverviewView({ onOpen }: { onOpen: (id: string) => void }) {
  return (
    <div className="scroll" data-testid="overview">
      <div className="grid" style={{ gap: 16 }}>
        <Kpis />
        <div className="grid overview-split">
          <AlarmsTable onOpen={onOpen} />
          <Schedule />
        </div>
        <MachineCards onOpen={onOpen} />
      </div>
    </div>
  );
}

/** Opens a work order from an alarm (its machine and message) and shows it in the work-order view. */
function WorkOrderButton({ alarmId }: { alarmId: number }) {
  const refused = refusal(useSession(), "operator");
  const [busy, setBusy] = useState(false);
  const open = async (): Promise<void> => {
    setBusy(true);
    try {
      const o = await api.createWorkOrder({ alarm_id: alarmId, description: "" });
      notify(`Work order #${o.id} opened from alarm #${alarmId}`, "ok");
      window.location.hash = routeHash({ view: "workorders", machine: null, order: o.id });
    } catch (e) {
      notify(`Could not open a work order: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      className="btn sm"
      onClick={() => void open()}
      disabled={busy || refused !== null}
      title={refused ? `Work orders ${refused}` : "Open a work order for this alarm"}
      data-testid="alarm-work-order"
    >
      Work order
    </button>
  );
}

type VisitOrderState =
  | { phase: "idle" }
  | { phase: "pending" }
  | { phase: "created"; order: WorkOrder }
  | { phase: "failed"; message: string };

/** The work order of a schedule visit: a link to the one it has, or a button that opens one (operator role) and
 * says so only once the server has answered, with the order it made or the error it gave. */
function VisitWorkOrder({
  task,
  existing,
  modelVersion,
  onCreated,
}: {
  task: ScheduledTask;
  existing: WorkOrder | null;
  modelVersion: string | null;
  onCreated: () => void;
}) {
  const refused = refusal(useSession(), "operator");
  const [state, setState] = useState<VisitOrderState>({ phase: "idle" });
  const order = existing ?? (state.phase === "created" ? state.order : null); // the polled one is the fresher
  if (order)
    return (
      <a
        href={routeHash({ view: "workorders", machine: null, order: order.id })}
        data-testid="schedule-wo-link"
        data-id={order.id}
        title={order.title}
      >
        #{order.id} {STATE_LABEL[order.state]}
      </a>
    );
  const open = async (): Promise<void> => {
    setState({ phase: "pending" });
    const ms = Date.parse(task.shift_start);
    const when = `${formatDay(ms)} ${formatClock(ms).slice(0, 5)}`;
    try {
      const o = await api.createWorkOrder(visitWorkOrder(task, when, modelVersion));
      setState({ phase: "created", order: o });
      notify(`Work order #${o.id} opened for the visit of ${when}`, "ok");
      onCreated();
    } catch (e) {
      setState({ phase: "failed", message: errorText(e) });
      notify(`Could not open a work order: ${errorText(e)}`);
    }
  };
  const pending = state.phase === "pending";
  return (
    <>
      <button
        className="btn sm"
        onClick={() => void open()}
        disabled={pending || refused !== null}
        title={refused ? `Work orders ${refused}` : "Open a work order for this visit"}
        data-testid="schedule-work-order"
        data-pending={pending}
      >
        {pending ? "Opening…" : "Work order"}
      </button>
      {state.phase === "failed" && (
        <div className="warn-text" role="alert" data-testid="schedule-wo-error" style={{ fontSize: 11.5 }}>
          {state.message}
        </div>
      )}
    </>
  );
}
