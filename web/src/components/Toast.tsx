// Short-lived notices (command accepted, request failed): one at a time, bottom right.

import { useSyncExternalStore } from "react";

/** ok: done as asked; warn: accepted but not done (e.g. a command not delivered); error: refused or failed. */
export type Tone = "ok" | "warn" | "error";

interface Notice {
  text: string;
  tone: Tone;
  id: number;
}

let current: Notice | null = null;
let seq = 0;
const listeners = new Set<() => void>();

/** Show a notice for a few seconds. */
export function notify(text: string, tone: Tone = "error"): void {
  const id = ++seq;
  current = { text, tone, id };
  listeners.forEach((l) => l());
  setTimeout(() => {
    if (current?.id === id) {
      current = null;
      listeners.forEach((l) => l());
    }
  }, 4000);
}

export function Toast() {
  const n = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
  if (!n) return null;
  return (
    <div className={`toast ${n.tone}`} role="status" data-testid="toast" data-tone={n.tone}>
      {n.text}
    </div>
  );
}
