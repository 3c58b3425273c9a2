// Short-lived notices (command accepted, request failed): one at a time, bottom right.

import { useSyncExternalStore } from "react";

interface Notice {
  text: string;
  ok: boolean;
  id: number;
}

let current: Notice | null = null;
let seq = 0;
const listeners = new Set<() => void>();

/** Show a notice for a few seconds. */
export function notify(text: string, ok = false): void {
  const id = ++seq;
  current = { text, ok, id };
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
    <div className={`toast${n.ok ? " ok" : ""}`} role="status" data-testid="toast">
      {n.text}
    </div>
  );
}
