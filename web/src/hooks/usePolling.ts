// Poll a REST resource while a view shows it: load now, then every `intervalMs`, until the key changes or the
// component unmounts. One hook for every polled panel, so that none of them swallows a failure or shows data of
// another resource (a different machine, an older model) after its key changed.

import { useEffect, useEffectEvent, useState } from "react";

export interface Polled<T> {
  /** The newest answer for the current key (null until the first one). */
  data: T | null;
  /** Why the newest poll failed (null when it succeeded); the previous data is kept meanwhile. */
  error: string | null;
}

interface Slot<T> extends Polled<T> {
  key: string | null;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Poll `load` every `intervalMs` while `key` is not null; a new key starts afresh (nothing of the old key shows).
 * `what` names the resource in the console when a poll fails.
 */
export function usePolling<T>(key: string | null, load: () => Promise<T>, intervalMs: number, what: string): Polled<T> {
  const [slot, setSlot] = useState<Slot<T>>({ key: null, data: null, error: null });
  const fetchOnce = useEffectEvent(() => load());
  useEffect(() => {
    if (key === null) return;
    let cancelled = false;
    const poll = (): void => {
      fetchOnce().then(
        (data) => {
          if (!cancelled) setSlot({ key, data, error: null });
        },
        (e: unknown) => {
          if (cancelled) return;
          console.warn(`polling ${what} (${key}) failed:`, e);
          setSlot((s) => ({ key, data: s.key === key ? s.data : null, error: errorText(e) }));
        },
      );
    };
    poll();
    const timer = setInterval(poll, intervalMs);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [key, intervalMs, what]);
  return slot.key === key && key !== null ? slot : { data: null, error: null };
}
