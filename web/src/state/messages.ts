// Parsing of WebSocket frames into the generated `ServerMessage` union. The server's messages are typed by the
// contract (schema.ts); this only guards against frames that are not messages at all (not JSON, no known `type`,
// a missing body), which are dropped (and counted by the caller), never thrown, so one bad frame cannot break the
// dashboard. Nothing is rewritten: a message is used exactly as the server sent it.

import type { BatchMessage, ServerMessage } from "../api/types";

type MessageType = ServerMessage["type"];

/** The key every message of a type carries its body in (checked to be present). */
const BODY: Record<MessageType, string> = {
  snapshot: "machines",
  reading: "values",
  state: "state",
  alarm: "alarm",
  event: "event",
  prediction: "prediction",
  command: "status",
  machine_changed: "machine_id",
  scenario: "job_id",
  error: "detail",
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function decoded(frame: unknown): unknown {
  if (typeof frame !== "string") return frame;
  try {
    return JSON.parse(frame);
  } catch {
    return undefined; // not JSON: the caller counts it as a dropped frame
  }
}

function asMessage(data: unknown): ServerMessage | null {
  if (!isObject(data) || typeof data.type !== "string" || !Object.hasOwn(BODY, data.type)) return null;
  const body = data[BODY[data.type as MessageType]];
  if (body === undefined || body === null) return null;
  return data as ServerMessage;
}

/** Parse one frame (text or already-decoded JSON) into a typed message, or null when it is not one. */
export function parseServerMessage(frame: unknown): ServerMessage | null {
  return asMessage(decoded(frame));
}

/** The messages of one frame: one message, or the several of a `batch` frame (the dashboard connects with
 *  `?batch=true`: a frame carries whatever was queued for it, oldest first), with the count of a batch's items
 *  that are not messages (left out). Null when the frame is neither. */
export function parseServerFrame(frame: unknown): { messages: ServerMessage[]; dropped: number } | null {
  const data = decoded(frame);
  if (isObject(data) && data.type === "batch" && Array.isArray(data.messages)) {
    const items = (data as unknown as BatchMessage).messages as unknown[];
    const messages = items.map(asMessage).filter((m): m is ServerMessage => m !== null);
    return { messages, dropped: items.length - messages.length };
  }
  const one = asMessage(data);
  return one === null ? null : { messages: [one], dropped: 0 };
}
