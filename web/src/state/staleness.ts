// Is what the screen shows still true? Pure functions of the connection, the last message and an injected clock,
// so the dashboard can mark every live number stale (with its age) the moment the stream is down, and warn per
// machine once its last reading is older than the twin's offline threshold.

import type { MachineState } from "../api/types";
import type { ConnectionStatus } from "./reducer";

/** The server's default `offline_after_s` (config.py): a machine silent this long is offline. */
export const OFFLINE_AFTER_S = 30;

export interface StreamStaleness {
  /** True while the stream is down after data has arrived: everything live on screen is as of `asOf`. */
  stale: boolean;
  /** Epoch ms of the last message received (null before the first one). */
  asOf: number | null;
  /** Seconds since `asOf` at `now` (null before the first message). */
  ageS: number | null;
}

/** Whether the live data is stale at `now` (epoch ms): it is whenever the stream is not open. */
export function streamStaleness(
  connection: ConnectionStatus,
  lastMessageAt: number | null,
  now: number,
): StreamStaleness {
  const ageS = lastMessageAt === null ? null : Math.max(0, (now - lastMessageAt) / 1000);
  return { stale: connection !== "open" && lastMessageAt !== null, asOf: lastMessageAt, ageS };
}

/** Seconds since a machine last reported (its `last_seen`, else its values' time) at `now`; null if never. */
export function readingAgeS(state: MachineState | undefined, now: number): number | null {
  const ts = state?.last_seen ?? state?.values_ts ?? null;
  if (!ts) return null;
  const t = Date.parse(ts);
  return Number.isFinite(t) ? Math.max(0, (now - t) / 1000) : null;
}

/** "ok" while readings are recent, "late" past the offline threshold, "never" without any reading. */
export type ReadingFreshness = "ok" | "late" | "never";

export function readingFreshness(ageS: number | null, offlineAfterS: number = OFFLINE_AFTER_S): ReadingFreshness {
  if (ageS === null) return "never";
  return ageS >= offlineAfterS ? "late" : "ok";
}
