// What the server offers beyond the core API (the ML service may not run), learnt from GET /health, so the
// dashboard never calls a route that is not there (a 404 would print a console error in the browser).

import { useSyncExternalStore } from "react";
import { api, mlEnabled } from "../api/client";

export interface Capabilities {
  /** null until /health has answered. */
  ml: boolean | null;
  activeModel: string | null;
}

let caps: Capabilities = { ml: null, activeModel: null };
const listeners = new Set<() => void>();

function set(next: Capabilities): void {
  if (next.ml === caps.ml && next.activeModel === caps.activeModel) return;
  caps = next;
  listeners.forEach((l) => l());
}

/** Poll /health now and every ``intervalMs``; returns a stop function. */
export function watchCapabilities(intervalMs = 30_000): () => void {
  let stopped = false;
  const poll = (): void => {
    api
      .health()
      .then((h) => {
        if (stopped) return;
        const ml = mlEnabled(h);
        const active = h.sections.ml?.active_model;
        set({ ml, activeModel: typeof active === "string" ? active : null });
      })
      // What the server offers stays as last seen; the next poll tries again.
      .catch((e: unknown) => console.warn("polling /health for the server's capabilities failed:", e));
  };
  poll();
  const t = setInterval(poll, intervalMs);
  return () => {
    stopped = true;
    clearInterval(t);
  };
}

export function useCapabilities(): Capabilities {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => caps,
  );
}
