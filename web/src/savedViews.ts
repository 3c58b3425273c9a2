// Saved History views: who may delete one, the link that opens one, and the name a new one is saved under.

import type { Me, SavedView } from "./api/types";
import { hasRole } from "./session";

export const MAX_VIEW_NAME = 80;

/** Its owner and admins delete a view (the server decides; this only hides the button of others). */
export function mayDelete(me: Me | null, view: SavedView): boolean {
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
