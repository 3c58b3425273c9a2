// The panel of one machine: status and health, operator controls, prediction, alarms, live values, events.

import { useEffect, useMemo, useRef, useState } from "react";
import { api, type CommandInput } from "../api/client";
import type { CommandKind, Machine, MachineEvent, Prediction, SensorSpec } from "../api/types";
import { useFactory } from "../context";
import { machineEventsExportQuery } from "../exports";
import {
  bandPosition,
  formatHours,
  formatPercent,
  formatTime,
  formatUnit,
  formatValue,
  formatIn,
  kelvinToCelsius,
  profileLabel,
  STATUS_COLOR,
} from "../format";
import { errorText, usePolling } from "../hooks/usePolling";
import { refusal, useSession } from "../session";
import { useCapabilities } from "../state/capabilities";
import { sortedAlarms } from "../state/selectors";
import { twinStore, useTwin } from "../state/store";
import { useNow } from "../hooks/useNow";
import { useStaleness } from "../hooks/useStaleness";
import {
  answered,
  availability,
  commandLabel,
  currentSetpoint,
  describeCommand,
  isFinal,
  requestFailed,
  resolve,
  sending,
  setpointOf,
  type Availability,
  type Tone,
  type TrackedCommand,
} from "../state/commands";
import { HealthBar, SeverityTag, StatusBadge } from "./Bits";
import { LastReading, StaleTag } from "./Freshness";
import { MachineConnectors } from "./MachineConnectors";
import { Sparkline } from "./Sparkline";
import { notify } from "./Toast";

const EMPTY_EVENTS: MachineEvent[] = [];

export async function acknowledge(id: number): Promise<void> {
  try {
    const alarm = await api.ackAlarm(id);
    twinStore.dispatch({ type: "alarm/updated", alarm });
    notify(`Alarm #${id} acknowledged`, "ok");
  } catch (e) {
    notify(`Could not acknowledge alarm #${id}: ${errorText(e)}`);
  }
}

/** The acknowledge button of an alarm: disabled, saying why, for a user below the operator role. */
export function AckButton({ id, label = "Ack" }: { id: number; label?: string }) {
  const refused = refusal(useSession(), "operator");
  return (
    <button
      className="btn sm"
      onClick={() => void acknowledge(id)}
      disabled={refused !== null}
      title={refused ? `Acknowledging ${refused}` : undefined}
      data-testid="ack"
    >
      {label}
    </button>
  );
}

/** A command button, disabled with its reason (shown as the tooltip and read by tests) when it cannot apply. */
function CommandButton({
  kind,
  label,
  className,
  can,
  onClick,
}: {
  kind: CommandKind;
  label: string;
  className: string;
  can: Availability;
  onClick: () => void;
}) {
  return (
    <button
      className={`btn ${className}`}
      disabled={!can.enabled}
      onClick={onClick}
      title={can.reason ?? undefined}
      data-testid={`cmd-${kind === "set_speed" ? "set-speed" : kind}`}
      data-reason={can.reason ?? ""}
    >
      {label}
    </button>
  );
}

function Controls({ machine }: { machine: Machine }) {
  const refused = refusal(useSession(), "operator");
  if (refused) return <ControlsRefused why={refused} />;
  return <OperatorControls machine={machine} />;
}

function ControlsRefused({ why }: { why: string }) {
  return (
    <div className="section">
      <h3>Operator controls</h3>
      <p className="muted" data-testid="controls-refused">
        Commands {why}.
      </p>
    </div>
  );
}

function OperatorControls({ machine }: { machine: Machine }) {
  const status = useTwin((s) => s.machines[machine.id]?.status);
  const statePct = useTwin((s) => s.machines[machine.id]?.speed_pct);
  const events = useTwin((s) => s.events[machine.id] ?? EMPTY_EVENTS);
  const { stale } = useStaleness();
  const now = useNow();
  const logged = useMemo(() => currentSetpoint(events), [events]);
  // The twin's state says the setpoint (MachineState.speed_pct, 100 % until a set_speed applied); the event log
  // only says since when, when its newest applied set_speed is that setpoint.
  const setpoint = setpointOf(statePct, logged);
  // The slider opens at the machine's setpoint and follows it until the operator moves it.
  const [dragged, setDragged] = useState<number | null>(null);
  const speed = dragged ?? setpoint?.pct ?? 100;
  const [sent, setSent] = useState<TrackedCommand | null>(null);
  const [confirmStop, setConfirmStop] = useState(false);
  const tracked = sent ? resolve(sent, events, now) : null;
  // Tell the operator once, as a toast, when a command reaches its end.
  const told = useRef<number | null>(null);
  useEffect(() => {
    if (!tracked || !isFinal(tracked.phase) || told.current === tracked.sentAt) return;
    told.current = tracked.sentAt;
    const d = describeCommand(tracked);
    notify(`${machine.name}: ${d.text}`, d.tone === "ok" ? "ok" : d.tone === "warn" ? "warn" : "error");
  });

  const send = async (command: CommandKind): Promise<void> => {
    setConfirmStop(false);
    const pct = command === "set_speed" ? speed : null;
    const start = sending(command, pct, Date.now());
    setSent(start);
    try {
      const request: CommandInput = command === "set_speed" ? { command, speed_pct: speed } : { command };
      const result = await api.command(machine.id, request);
      setSent((cur) => (cur === start ? answered(start, result, Date.now()) : cur));
      if (command === "set_speed") setDragged(null);
    } catch (e) {
      setSent((cur) => (cur === start ? requestFailed(start, errorText(e)) : cur));
    }
  };
  const ctx = { status, stale, inFlight: tracked, setpoint: setpoint?.pct ?? null, speed };
  const can = (kind: CommandKind): Availability => availability(kind, ctx);
  const line = tracked ? describeCommand(tracked) : null;
  const stopCan = can("stop");
  return (
    <div className="section" data-testid="controls">
      <h3>Operator controls</h3>
      <div className="mode" data-testid="machine-mode">
        <span className="muted">Mode</span>
        <b data-testid="mode" style={{ color: STATUS_COLOR[status ?? "offline"] }}>
          {status ?? "offline"}
        </b>
        <span className="muted">Setpoint</span>{" "}
        <b className="num" data-testid="setpoint">
          {setpoint ? `${setpoint.pct} %` : "—"}
        </b>
        <span className="faint" data-testid="setpoint-since">
          {!setpoint
            ? "not known yet"
            : setpoint.ts
              ? `since ${formatTime(setpoint.ts)}`
              : setpoint.pct === 100
                ? "nominal"
                : ""}
        </span>
      </div>
      <div className="controls">
        <CommandButton
          kind="start"
          label="▶ Start"
          className="go"
          can={can("start")}
          onClick={() => void send("start")}
        />
        <CommandButton
          kind="stop"
          label="■ Stop"
          className="danger"
          can={stopCan}
          onClick={() => setConfirmStop(true)}
        />
        <CommandButton
          kind="maintain"
          label="⚙ Maintain"
          className=""
          can={can("maintain")}
          onClick={() => void send("maintain")}
        />
      </div>
      {confirmStop && stopCan.enabled && (
        <div className="confirm" role="alertdialog" aria-label="confirm stop" data-testid="confirm-stop">
          <span>
            Stop <b>{machine.name}</b>? It stays stopped until someone starts it again.
          </span>
          <span className="row">
            <button className="btn danger" onClick={() => void send("stop")} data-testid="cmd-stop-confirm">
              Stop machine
            </button>
            <button className="btn" onClick={() => setConfirmStop(false)} data-testid="cmd-stop-cancel">
              Cancel
            </button>
          </span>
        </div>
      )}
      <div className="speed">
        <span className="muted">Speed</span>
        <input
          type="range"
          min={0}
          max={120}
          step={5}
          value={speed}
          onChange={(e) => setDragged(Number(e.target.value))}
          aria-label="speed percent"
          data-testid="speed-slider"
        />
        <span className="num" style={{ width: 44, textAlign: "right" }} data-testid="speed-value">
          {speed}%
        </span>
        <CommandButton
          kind="set_speed"
          label="Set"
          className="sm"
          can={can("set_speed")}
          onClick={() => void send("set_speed")}
        />
      </div>
      {(["start", "stop", "maintain", "set_speed"] as CommandKind[])
        .map((k) => can(k).reason)
        .some((r) => r !== null) && (
        <ul className="reasons faint" data-testid="command-reasons">
          {(["start", "stop", "maintain", "set_speed"] as CommandKind[]).map((k) => {
            const r = can(k).reason;
            return r && !(tracked && !isFinal(tracked.phase)) ? (
              <li key={k}>
                {commandLabel(k, k === "set_speed" ? speed : null)}: {r}
              </li>
            ) : null;
          })}
        </ul>
      )}
      {tracked && line && (
        <div
          className={`cmd-status ${line.tone}`}
          role="status"
          data-testid="command-status"
          data-phase={tracked.phase}
        >
          <span className="icon">{ICON[line.tone]}</span>
          {line.text}
        </div>
      )}
    </div>
  );
}

const ICON: Record<Tone, string> = { pending: "⏳", ok: "✓", warn: "⚠", error: "✕" };

function PredictionSection({ machineId }: { machineId: string }) {
  const live = useTwin((s) => s.predictions[machineId]);
  const { ml, activeModel } = useCapabilities();
  // Polled again when the machine or the served model changes.
  const { data: fetched, error } = usePolling(
    ml ? `${machineId}@${activeModel ?? ""}` : null,
    () => api.prediction(machineId),
    30_000,
    "prediction",
  );
  // The stream's message is newer than the last poll when it has come in since.
  const p: Prediction | null = live && (!fetched?.ts || (live.ts ?? "") >= fetched.ts) ? live : fetched;
  const probability = p?.probability ?? null;
  const ok = p !== null && p.status === "ok" && probability !== null;
  // a machine that is not running is not scored: it shows what it is doing instead of a risk
  const down = p !== null && !["ok", "no_model", "no_data"].includes(p.status);
  return (
    <div className="section" data-testid="prediction">
      <h3>
        Failure prediction
        <span className="spacer" />
        {ok && p?.model_version && (
          <span className="faint num" style={{ textTransform: "none" }}>
            model {p.model_version}
          </span>
        )}
      </h3>
      {error && !p && (
        <div className="faint warn-text" data-testid="prediction-error">
          could not load the prediction: {error}
        </div>
      )}
      {down && p ? (
        <div data-testid="prediction-status">
          <div className="big warn-text">{p.status}</div>
          {p.failure_mode && (
            <div>
              <span className="muted">Failure mode: </span>
              {p.failure_mode.replaceAll("_", " ")}
            </div>
          )}
          {p.repair_progress != null && (
            <div>
              <span className="muted">Repair progress: </span>
              {formatPercent(p.repair_progress, 0)}
            </div>
          )}
          <div className="faint">not scored while not running</div>
        </div>
      ) : !ok ? (
        <div className="faint" data-testid="no-model">
          {ml === false || !p || p.status === "no_model" ? "no model" : "no data yet"}
          {ml === false
            ? ": the prediction service is not running"
            : p?.message
              ? `: ${p.message.replace(/^no model[^:]*:\s*/i, "")}`
              : ""}
        </div>
      ) : (
        <>
          <div className="pred">
            <div>
              <div className="muted">Failure within {formatHours(p.horizon ?? null)}</div>
              <div
                className="big"
                style={{ color: probability > 0.5 ? "#f87171" : probability > 0.2 ? "#fbbf24" : "#86efac" }}
              >
                {formatPercent(probability, 1)}
              </div>
            </div>
            <div>
              <div className="muted">Remaining useful life</div>
              <div className="big">{formatHours(p.rul?.median)}</div>
              {p.rul && (
                <div className="faint num">
                  80 %: {formatHours(p.rul.low)} – {formatHours(p.rul.high)}
                </div>
              )}
            </div>
          </div>
          {p.likely_mode && (
            <div style={{ marginTop: 8 }}>
              <span className="muted">Likely mode: </span>
              {p.likely_mode.replaceAll("_", " ")}
            </div>
          )}
          {p.reasons && p.reasons.length > 0 && (
            <ul style={{ margin: "6px 0 0", paddingLeft: 18 }} className="muted">
              {p.reasons.slice(0, 4).map((r) => (
                <li key={r.feature} data-testid="prediction-reason" data-feature={r.feature} title={r.feature}>
                  {r.text || `${r.feature.replaceAll("_", " ")}${r.value != null ? ` = ${formatValue(r.value)}` : ""}`}{" "}
                  <span className="faint">({r.contribution >= 0 ? "raises" : "lowers"} the risk)</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

function AlarmsSection({ machineId }: { machineId: string }) {
  const alarms = useTwin((s) => s.alarms);
  const list = useMemo(() => sortedAlarms(alarms, { machineId, activeOnly: true }), [alarms, machineId]);
  return (
    <div className="section" data-testid="machine-alarms">
      <h3>
        Active alarms <span className="num faint">{list.length}</span>
      </h3>
      {list.length === 0 ? (
        <div className="faint">none</div>
      ) : (
        list.map((a) => (
          <div key={a.id} style={{ display: "flex", gap: 10, alignItems: "center", padding: "5px 0" }}>
            <SeverityTag severity={a.severity} />
            <span style={{ flex: 1 }}>{a.message}</span>
            {a.state === "active_unack" ? <AckButton id={a.id} /> : <span className="faint">acked</span>}
          </div>
        ))
      )}
    </div>
  );
}

function SensorRow({ machineId, spec }: { machineId: string; spec: SensorSpec }) {
  const value = useTwin((s) => s.machines[machineId]?.values[spec.key]);
  const series = useTwin((s) => s.series[machineId]?.[spec.key]);
  const pos = typeof value === "number" ? bandPosition(value, spec.normal_low, spec.normal_high) : "ok";
  const { stale } = useStaleness();
  const span = spec.high - spec.low || 1;
  const pct = (v: number): number => Math.max(0, Math.min(100, ((v - spec.low) / span) * 100));
  return (
    <div className="sensor" data-testid={`sensor-${spec.key}`}>
      <span className="lbl">
        {spec.label} <StaleTag />
      </span>
      <span
        className={`val ${pos}`}
        data-testid="sensor-value"
        title={stale ? "stale: the live stream is down" : undefined}
      >
        {formatValue(value, spec.unit)}
        {spec.unit === "K" && formatUnit("K") === "K" && typeof value === "number" && (
          <span className="faint" style={{ fontWeight: 400, fontSize: 11 }}>
            {" "}
            {kelvinToCelsius(value).toFixed(1)} °C
          </span>
        )}
      </span>
      <div
        className="bandbar"
        title={`normal ${formatIn(spec.normal_low, spec.unit)}–${formatIn(spec.normal_high, spec.unit)} ${formatUnit(spec.unit)}`}
      >
        <div
          className="normal"
          style={{ left: `${pct(spec.normal_low)}%`, width: `${pct(spec.normal_high) - pct(spec.normal_low)}%` }}
        />
        {typeof value === "number" && (
          <div
            className="mark"
            style={{ left: `calc(${pct(value)}% - 1px)`, background: pos === "ok" ? "#e5e7eb" : "#fb923c" }}
          />
        )}
      </div>
      <Sparkline
        data={series}
        normal={[spec.normal_low, spec.normal_high]}
        color={pos === "ok" ? "#38bdf8" : "#fb923c"}
      />
      <span className="band">
        <span>
          normal {formatIn(spec.normal_low, spec.unit)} – {formatValue(spec.normal_high, spec.unit)}
        </span>
        <span>
          range {formatIn(spec.low, spec.unit)} – {formatIn(spec.high, spec.unit)}
        </span>
      </span>
    </div>
  );
}

function EventsSection({ machineId }: { machineId: string }) {
  const events = useTwin((s) => s.events[machineId] ?? EMPTY_EVENTS);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    api.events(machineId, 30).then(
      (list) => {
        if (cancelled) return;
        setError(null);
        twinStore.dispatch({ type: "events/loaded", machineId, events: list });
      },
      (e: unknown) => {
        if (cancelled) return;
        console.warn(`loading the events of ${machineId} failed:`, e);
        setError(errorText(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [machineId]);
  return (
    <div className="section" data-testid="machine-events">
      <h3>
        Recent events
        <span className="spacer" />
        <a
          className="btn sm"
          href={api.eventsExportHref(machineEventsExportQuery(machineId, new Date()))}
          download
          title="Every event of this machine of the last 24 hours, as CSV"
          data-testid="events-csv"
        >
          CSV, 24 h
        </a>
      </h3>
      {error && (
        <div className="faint warn-text" data-testid="events-error">
          could not load the event log: {error}
        </div>
      )}
      {events.length === 0 ? (
        <div className="faint">no events yet</div>
      ) : (
        <ul className="events">
          {events.slice(0, 15).map((e, i) => (
            <li key={e.id ?? `${e.ts}-${i}`}>
              <span className="num faint">{formatTime(e.ts)}</span>
              <span>
                <span className="muted">{e.kind}</span> {e.message || e.status}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function MachinePanel({ machine, onClose }: { machine: Machine; onClose: () => void }) {
  const info = useFactory();
  const state = useTwin((s) => s.machines[machine.id]);
  const specs = info.catalogue[machine.profile] ?? [];
  const meta = machine.metadata ?? {};
  const vendor = [meta.vendor, meta.model].filter((x) => typeof x === "string").join(" ");
  const line = info.layout.lines.find((l) => l.id === machine.line)?.name ?? machine.line;
  const { stale } = useStaleness();
  return (
    <aside className={`drawer${stale ? " stale" : ""}`} data-testid="machine-panel" data-machine={machine.id}>
      <div className="drawer-h">
        <div className="title">
          <h2>{machine.name}</h2>
          <StatusBadge status={state?.status} />
          <span style={{ flex: 1 }} />
          <a className="btn sm ghost" href={`#/history/${encodeURIComponent(machine.id)}`} title="history">
            History
          </a>
          <button className="btn sm ghost" onClick={onClose} aria-label="close" data-testid="panel-close">
            ✕
          </button>
        </div>
        <div className="meta">
          {profileLabel(machine.profile, info.layout.profile_names)} · <span className="num">{machine.id}</span> ·{" "}
          {line}
          {vendor && ` · ${vendor}`}
        </div>
        <div className="meta">
          <LastReading state={state} />
        </div>
        <div style={{ marginTop: 10 }} className={stale ? "stale" : undefined}>
          <HealthBar health={state?.health} />
        </div>
      </div>
      <Controls machine={machine} />
      <AlarmsSection machineId={machine.id} />
      <PredictionSection machineId={machine.id} />
      <MachineConnectors machineId={machine.id} />
      <div className={`section${stale ? " stale" : ""}`} data-testid="live-values" data-stale={stale}>
        <h3>
          Live values
          <span className="spacer" />
          <StaleTag />
        </h3>
        {specs.map((s) => (
          <SensorRow key={s.key} machineId={machine.id} spec={s} />
        ))}
      </div>
      <EventsSection machineId={machine.id} />
    </aside>
  );
}
