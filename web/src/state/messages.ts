// Parsing of WebSocket frames into the generated `ServerMessage` union. The server's messages are typed by the
// contract (schema.ts); this only guards against frames that are not messages at all (not JSON, no known `type`,
// a missing body), which are dropped (and counted by the caller), never thrown, so one bad frame cannot break the
// dashboard. Nothing is rewritten: a message is used exactly as the server sent it.

import type { ServerMessage } from "../api/types";

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
  error: "detail",
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse one frame (text or already-decoded JSON) into a typed message, or null when it is not one. */
export function parseServerMessage(frame: unknown): ServerMessage | null {
  let data: unknown = frame;
  if (typeof frame === "string") {
    try {
      data = JSON.parse(frame);
    } catch {
      return null; // not JSON: the caller counts it as a dropped frame
    }
  }
  if (!isObject(data) || typeof data.type !== "string" || !Object.hasOwn(BODY, data.type)) return null;
  const body = data[BODY[data.type as MessageType]];
  if (body === undefined || body === null) return null;
  return data as ServerMessage;
}
