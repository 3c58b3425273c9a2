// The live twin as the browser sees it: a pure reducer over WebSocket messages and REST results.
// Pure so that every message kind and edge case (out-of-order, duplicate, reconnect) is unit-tested.

import type {
  Alarm,
  MachineEvent,
  MachineState,
  Prediction,
  ScenarioProgress,
  ServerMessage,
  StoredAlarm,
} from "../api/types";

export type ConnectionStatus = "connecting" | "open" | "reconnecting";

/** A short rolling window of one sensor's live values, for sparklines (times in epoch seconds). */
export interface SeriesBuffer {
  t: number[];
  v: number[];
}

export interface TwinState {
  connection: ConnectionStatus;
  reconnectAttempt: number;
  /** Epoch ms of the last message, for the "last update" indicator. */
  lastMessageAt: number | null;
  messagesReceived: number;
  machines: Record<string, MachineState>;
  alarms: Record<number, StoredAlarm>;
  /** Per machine, newest first. */
  events: Record<string, MachineEvent[]>;
  series: Record<string, Record<string, SeriesBuffer>>;
  predictions: Record<string, Prediction>;
  /** The server's last `error` message (something this client sent that it could not use), if any. */
  serverError: { detail: string; at: number } | null;
  /** Counts the plant's changes (machines created, changed, deleted): the layout is reloaded on each. */
  plantVersion: number;
  /** What-if jobs as the stream last told them (state, progress), by job id. */
  scenarios: Record<string, ScenarioProgress>;
}

export type TwinAction =
  | { type: "ws/status"; status: ConnectionStatus; attempt?: number }
  | { type: "ws/message"; message: ServerMessage; receivedAt: number }
  | { type: "machines/loaded"; machines: MachineState[] }
  | { type: "alarms/loaded"; alarms: Alarm[] }
  | { type: "alarm/updated"; alarm: Alarm }
  | { type: "events/loaded"; machineId: string; events: MachineEvent[] }
  | { type: "prediction/loaded"; machineId: string; prediction: Prediction };

/** Points kept per sensor for sparklines: at 1 Hz, three minutes. */
export const SERIES_CAP = 180;
/** Events kept per machine. */
export const EVENTS_CAP = 50;
/** Cleared alarms kept (active ones are always kept). */
export const CLEARED_ALARMS_CAP = 200;

export const initialTwinState: TwinState = {
  connection: "connecting",
  reconnectAttempt: 0,
  lastMessageAt: null,
  messagesReceived: 0,
  machines: {},
  alarms: {},
  events: {},
  series: {},
  predictions: {},
  serverError: null,
  plantVersion: 0,
  scenarios: {},
};

export function isActive(alarm: Alarm): boolean {
  return alarm.state === "active_unack" || alarm.state === "active_ack";
}

function toEpochSeconds(ts: string | null | undefined): number | null {
  if (!ts) return null;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

/** A machine's buffers with the values at time ``t`` appended (null: nothing changed); out-of-order or repeated
 * instants are ignored. */
function appendedBuffers(
  current: Record<string, SeriesBuffer>,
  t: number,
  values: Record<string, number>,
): Record<string, SeriesBuffer> | null {
  let changed = false;
  const next: Record<string, SeriesBuffer> = { ...current };
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    const buf = current[key];
    const lastT = buf && buf.t.length > 0 ? buf.t[buf.t.length - 1] : undefined;
    if (lastT !== undefined && t <= lastT) continue;
    const ts = buf ? buf.t.concat(t) : [t];
    const vs = buf ? buf.v.concat(value) : [value];
    if (ts.length > SERIES_CAP) {
      ts.splice(0, ts.length - SERIES_CAP);
      vs.splice(0, vs.length - SERIES_CAP);
    }
    next[key] = { t: ts, v: vs };
    changed = true;
  }
  return changed ? next : null;
}

/** Append the values at time ``t`` to a machine's buffers; out-of-order or repeated instants are ignored. */
function appendSeries(
  series: TwinState["series"],
  machineId: string,
  t: number | null,
  values: Record<string, number>,
): TwinState["series"] {
  if (t === null) return series;
  const next = appendedBuffers(series[machineId] ?? {}, t, values);
  return next === null ? series : { ...series, [machineId]: next };
}

/** A newer machine state merged into ``prev``; an older one (by values_ts/last_seen) cannot overwrite newer
 * values. ``t``: the incoming values' time, null when they are older (nothing for the sparklines). */
function mergedMachine(
  prev: MachineState | undefined,
  incoming: MachineState,
): { merged: MachineState; t: number | null } {
  const prevT = toEpochSeconds(prev?.values_ts ?? null);
  const inT = toEpochSeconds(incoming.values_ts ?? null);
  const valuesAreOlder = prevT !== null && inT !== null && inT < prevT;
  const merged: MachineState = {
    ...prev,
    ...incoming,
    values: valuesAreOlder ? (prev?.values ?? {}) : { ...(prev?.values ?? {}), ...(incoming.values ?? {}) },
    values_ts: valuesAreOlder ? (prev?.values_ts ?? null) : (incoming.values_ts ?? prev?.values_ts ?? null),
  };
  return { merged, t: valuesAreOlder ? null : inT };
}

/** Merge a newer machine state in. */
function mergeState(state: TwinState, incoming: MachineState): TwinState {
  return mergeStates(state, [incoming], false);
}

/** Merge many machine states in at once (``reset``: into an empty set of machines): one copy of the maps for all of
 * them, not one per machine, so a snapshot part of 500 machines costs 500 merges, not 500 copies of the plant. */
function mergeStates(state: TwinState, incoming: MachineState[], reset: boolean): TwinState {
  const machines: Record<string, MachineState> = reset ? {} : { ...state.machines };
  let series: TwinState["series"] | null = null; // copied on the first change
  for (const m of incoming) {
    const { merged, t } = mergedMachine(machines[m.machine_id], m);
    machines[m.machine_id] = merged;
    if (t === null) continue;
    const current = (series ?? state.series)[m.machine_id] ?? {};
    const next = appendedBuffers(current, t, m.values ?? {});
    if (next === null) continue;
    series ??= { ...state.series };
    series[m.machine_id] = next;
  }
  return { ...state, machines, series: series ?? state.series };
}

function isStored(alarm: Alarm): alarm is StoredAlarm {
  return alarm.id !== null && alarm.id !== undefined;
}

function upsertAlarm(alarms: TwinState["alarms"], alarm: Alarm): TwinState["alarms"] {
  if (!isStored(alarm)) return alarms; // never sent by the server: an alarm is saved before it is streamed
  const prev = alarms[alarm.id];
  // A late message about an alarm must not undo a newer acknowledgement.
  if (prev && Date.parse(prev.updated_at) > Date.parse(alarm.updated_at)) return alarms;
  const next = { ...alarms, [alarm.id]: alarm };
  return pruneCleared(next);
}

function pruneCleared(alarms: TwinState["alarms"]): TwinState["alarms"] {
  const cleared = Object.values(alarms).filter((a) => !isActive(a));
  if (cleared.length <= CLEARED_ALARMS_CAP) return alarms;
  cleared.sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at));
  const next = { ...alarms };
  for (const old of cleared.slice(CLEARED_ALARMS_CAP)) delete next[old.id];
  return next;
}

function addEvents(events: TwinState["events"], machineId: string, incoming: MachineEvent[]): TwinState["events"] {
  const existing = events[machineId] ?? [];
  const seen = new Set(existing.map(eventKey));
  const fresh = incoming.filter((e) => !seen.has(eventKey(e)));
  if (fresh.length === 0) return events;
  const merged = fresh.concat(existing);
  merged.sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
  return { ...events, [machineId]: merged.slice(0, EVENTS_CAP) };
}

function eventKey(e: MachineEvent): string {
  return e.id != null ? `#${e.id}` : `${e.ts}|${e.kind}|${e.message}`;
}

function applyMessage(state: TwinState, message: ServerMessage, receivedAt: number): TwinState {
  switch (message.type) {
    case "snapshot": {
      // A large snapshot comes in parts: part 0 replaces the machines and the active alarms we knew, each later
      // part adds its machines and their alarms (the server sends them right after part 0, before any update).
      const first = message.part === 0;
      const next = mergeStates(state, message.machines, first);
      const alarms: TwinState["alarms"] = {};
      for (const a of Object.values(state.alarms)) if (!first || !isActive(a)) alarms[a.id] = a;
      for (const a of message.alarms) if (isStored(a)) alarms[a.id] = a;
      return { ...next, alarms: pruneCleared(alarms) };
    }
    case "reading": {
      const prev = state.machines[message.machine_id];
      const t = toEpochSeconds(message.ts);
      const prevT = toEpochSeconds(prev?.values_ts ?? null);
      const series = appendSeries(state.series, message.machine_id, t, message.values);
      // A machine's state comes with the snapshot; readings of one not (yet) in it only feed the sparklines.
      if (!prev || (prevT !== null && t !== null && t < prevT)) return { ...state, series };
      const machine: MachineState = {
        ...prev,
        values: { ...prev.values, ...message.values },
        values_ts: message.ts,
        last_seen: message.ts,
      };
      return { ...state, series, machines: { ...state.machines, [message.machine_id]: machine } };
    }
    case "state":
      return mergeState(state, message.state);
    case "alarm":
      return { ...state, alarms: upsertAlarm(state.alarms, message.alarm) };
    case "event":
      return { ...state, events: addEvents(state.events, message.event.machine_id, [message.event]) };
    case "prediction":
      return { ...state, predictions: { ...state.predictions, [message.machine_id]: message.prediction } };
    case "command":
      return state; // a command's lifecycle: shown by the web side (issue 13), not kept in the twin state yet
    case "error":
      return { ...state, serverError: { detail: message.detail, at: receivedAt } };
    case "machine_changed": {
      const machines = { ...state.machines };
      if (message.op === "deleted") delete machines[message.machine_id];
      return { ...state, machines, plantVersion: state.plantVersion + 1 };
    }
    case "scenario":
      return { ...state, scenarios: { ...state.scenarios, [message.job_id]: message } };
  }
}

/** The reducer: (state, action) -> new state, never mutating its input. */
export function twinReducer(state: TwinState, action: TwinAction): TwinState {
  switch (action.type) {
    case "ws/status":
      return {
        ...state,
        connection: action.status,
        reconnectAttempt: action.status === "open" ? 0 : (action.attempt ?? state.reconnectAttempt),
      };
    case "ws/message": {
      const next = applyMessage(state, action.message, action.receivedAt);
      return { ...next, lastMessageAt: action.receivedAt, messagesReceived: state.messagesReceived + 1 };
    }
    case "machines/loaded":
      return mergeStates(state, action.machines, false);
    case "alarms/loaded": {
      let alarms = state.alarms;
      for (const a of action.alarms) alarms = upsertAlarm(alarms, a);
      return { ...state, alarms };
    }
    case "alarm/updated":
      return { ...state, alarms: upsertAlarm(state.alarms, action.alarm) };
    case "events/loaded":
      return { ...state, events: addEvents(state.events, action.machineId, action.events) };
    case "prediction/loaded":
      return { ...state, predictions: { ...state.predictions, [action.machineId]: action.prediction } };
  }
}
