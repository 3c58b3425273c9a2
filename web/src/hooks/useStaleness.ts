// The live stream's staleness and a machine's reading age, re-evaluated on the shared one-second clock.

import type { MachineState } from "../api/types";
import { readingAgeS, readingFreshness, streamStaleness, type ReadingFreshness } from "../state/staleness";
import type { StreamStaleness } from "../state/staleness";
import { useTwin } from "../state/store";
import { useNow } from "./useNow";

/** Whether what the screen shows is stale (the stream is down), since when, and how old it is. */
export function useStaleness(): StreamStaleness {
  const connection = useTwin((s) => s.connection);
  const lastMessageAt = useTwin((s) => s.lastMessageAt);
  const now = useNow();
  return streamStaleness(connection, lastMessageAt, now);
}

/** A machine's last-reading age in seconds and whether it is past the offline threshold. */
export function useReadingAge(state: MachineState | undefined): { ageS: number | null; freshness: ReadingFreshness } {
  const now = useNow();
  const ageS = readingAgeS(state, now);
  return { ageS, freshness: readingFreshness(ageS) };
}
