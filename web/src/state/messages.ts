// Parsing of WebSocket frames: anything that is not a well-formed message of a known type is dropped
// (and counted by the caller), never thrown, so one bad frame cannot break the dashboard.

import type { ServerMessage } from "../api/types";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isString(v: unknown): v is string {
  return typeof v === "string";
}

/** Parse one frame (text or already-decoded JSON) into a typed message, or null when it is not one. */
export function parseServerMessage(frame: unknown): ServerMessage | null {
  let data: unknown = frame;
  if (typeof frame === "string") {
    try {
      data = JSON.parse(frame);
    } catch {
      return null;
    }
  }
  if (!isObject(data) || !isString(data.type)) return null;
  switch (data.type) {
    case "snapshot":
      if (!Array.isArray(data.machines)) return null;
      return {
        type: "snapshot",
        machines: data.machines.filter((m): m is never => isObject(m) && isString(m.machine_id)),
        alarms: Array.isArray(data.alarms) ? data.alarms.filter((a): a is never => isObject(a) && a.id != null) : [],
      };
    case "reading":
      if (!isString(data.machine_id) || !isString(data.ts) || !isObject(data.values)) return null;
      return { type: "reading", machine_id: data.machine_id, ts: data.ts, values: numericValues(data.values) };
    case "state":
      if (!isObject(data.state) || !isString(data.state.machine_id)) return null;
      return data as unknown as ServerMessage;
    case "alarm":
      if (!isObject(data.alarm) || data.alarm.id == null || !isString(data.alarm.machine_id)) return null;
      return data as unknown as ServerMessage;
    case "event":
      if (!isObject(data.event) || !isString(data.event.machine_id) || !isString(data.event.ts)) return null;
      return data as unknown as ServerMessage;
    case "prediction": {
      // The machine id may sit on the message or inside the prediction.
      if (!isObject(data.prediction)) return null;
      const machineId = data.prediction.machine_id ?? data.machine_id;
      if (!isString(machineId)) return null;
      return { type: "prediction", prediction: { ...data.prediction, machine_id: machineId } };
    }
    default:
      return null;
  }
}

function numericValues(values: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  return out;
}
