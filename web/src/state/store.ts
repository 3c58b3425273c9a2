// A tiny external store around the pure reducer, read from React with useSyncExternalStore.

import { useSyncExternalStore } from "react";
import { initialTwinState, twinReducer, type TwinAction, type TwinState } from "./reducer";

export interface Store<S, A> {
  getState(): S;
  dispatch(action: A): void;
  subscribe(listener: () => void): () => void;
}

/** A store whose listeners are told at most once per animation frame, however many messages arrive. */
export function createStore<S, A>(
  reducer: (s: S, a: A) => S,
  initial: S,
  schedule: (cb: () => void) => void = defaultSchedule,
): Store<S, A> {
  let state = initial;
  const listeners = new Set<() => void>();
  let pending = false;
  const notify = (): void => {
    pending = false;
    for (const l of Array.from(listeners)) l();
  };
  return {
    getState: () => state,
    dispatch(action: A) {
      const next = reducer(state, action);
      if (next === state) return;
      state = next;
      if (!pending) {
        pending = true;
        schedule(notify);
      }
    },
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function defaultSchedule(cb: () => void): void {
  if (typeof requestAnimationFrame === "function" && typeof document !== "undefined" && !document.hidden) {
    requestAnimationFrame(cb);
  } else {
    setTimeout(cb, 16);
  }
}

export const twinStore: Store<TwinState, TwinAction> = createStore(twinReducer, initialTwinState);

/** Read a slice of the live twin; the component re-renders when the slice changes (by identity). */
export function useTwin<T>(selector: (s: TwinState) => T): T {
  return useSyncExternalStore(
    twinStore.subscribe,
    () => selector(twinStore.getState()),
    () => selector(twinStore.getState()),
  );
}
