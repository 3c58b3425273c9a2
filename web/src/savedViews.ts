// Saved History views: who may rename or delete one, the link that opens one, the name a view is saved under, and
// the state of a rename (editing → pending → done or failed: nothing is said to be renamed before the server's 2xx).

import type { Me, SavedView } from "./api/types";
import { hasRole } from "./session";

export const MAX_VIEW_NAME = 80;

/** Its owner and admins rename or delete a view (the server decides; this only hides the buttons of others). */
export function mayChange(me: Me | null, view: SavedView): boolean {
  return me !== null && (me.name === view.owner || hasRole(me.role, "admin"));
}

/** The whole URL of the dashboard at `hash` (what "Copy link" copies): the page's own address, its hash replaced. */
export function viewLink(location: Pick<Location, "origin" | "pathname" | "search">, hash: string): string {
  return `${location.origin}${location.pathname}${location.search}${hash}`;
}

/** The name as it will be saved (trimmed), or why it cannot be. */
export function checkName(name: string): { name: string } | { problem: string } {
  const trimmed = name.trim();
  if (!trimmed) return { problem: "give the view a name" };
  if (trimmed.length > MAX_VIEW_NAME) return { problem: `at most ${MAX_VIEW_NAME} characters` };
  return { name: trimmed };
}

/** A rename in the saved-view list: being typed (with why the name cannot be sent, if so), sent and not answered
 * yet, or refused (with the server's reason, the name kept for another try). Null: no rename open. */
export type Rename =
  | { state: "editing"; id: number; from: string; draft: string; problem: string | null }
  | { state: "pending"; id: number; from: string; draft: string }
  | { state: "failed"; id: number; from: string; draft: string; reason: string }
  | null;

export type RenameEvent =
  | { type: "open"; view: SavedView }
  | { type: "edit"; draft: string }
  | { type: "submit" }
  | { type: "answered"; id: number; view: SavedView }
  | { type: "refused"; id: number; reason: string }
  | { type: "cancel" };

/** The next rename state. "submit" moves to pending only with a name that can be sent (trimmed, 1-80 characters,
 * not the view's name already); the caller sends the request when the state becomes pending. An answer or a
 * refusal counts only for the rename that is pending (a late one of an abandoned rename changes nothing); while
 * pending, nothing but the answer moves it on. */
export function renameStep(state: Rename, event: RenameEvent): Rename {
  if (event.type === "open") {
    if (state?.state === "pending") return state;
    return { state: "editing", id: event.view.id, from: event.view.name, draft: event.view.name, problem: null };
  }
  if (state === null) return null;
  switch (event.type) {
    case "edit":
      return state.state === "pending" ? state : { ...state, state: "editing", draft: event.draft, problem: null };
    case "cancel":
      return state.state === "pending" ? state : null;
    case "submit": {
      if (state.state === "pending") return state;
      const checked = checkName(state.draft);
      if ("problem" in checked) return { ...state, state: "editing", problem: checked.problem };
      if (checked.name === state.from) return { ...state, state: "editing", problem: "that is its name already" };
      return { state: "pending", id: state.id, from: state.from, draft: checked.name };
    }
    case "answered":
      return state.state === "pending" && state.id === event.id ? null : state;
    case "refused":
      return state.state === "pending" && state.id === event.id
        ? { state: "failed", id: state.id, from: state.from, draft: state.draft, reason: event.reason }
        : state;
  }
}

/** The list with `view` (as the server answered it) in place of the view of its id. */
export function replaceView(views: readonly SavedView[] | null, view: SavedView): SavedView[] | null {
  return views === null ? null : views.map((v) => (v.id === view.id ? view : v));
}
