// The audit trail's filters (admin view): what the form holds, the query it sends, and how an outcome reads.
// Pure functions, so the view stays thin and the rules are tested (audit.test.ts).

import type { AuditEntry, Outcome } from "./api/types";

export interface AuditFilters {
  /** Exact actor name (user, token or device), or "" for everyone. */
  actor: string;
  /** An exact action ("machines.command") or a group ending in "." ("auth."), or "" for all. */
  action: string;
  outcome: Outcome | "";
  limit: number;
}

export const NO_FILTERS: AuditFilters = { actor: "", action: "", outcome: "", limit: 200 };

/** The action groups offered in the form, in the order an admin looks for them. */
export const ACTION_GROUPS: readonly { value: string; label: string }[] = [
  { value: "", label: "all actions" },
  { value: "machines.", label: "commands" },
  { value: "alarms.", label: "alarms" },
  { value: "auth.", label: "logins and credentials" },
  { value: "users.", label: "users" },
  { value: "tokens.", label: "API tokens" },
  { value: "devices.", label: "device keys" },
  { value: "models.", label: "models" },
  { value: "profile.", label: "profiles" },
  { value: "view.", label: "saved views" },
];

export const OUTCOMES: readonly Outcome[] = ["success", "failure", "denied"];

/** The query of GET /api/v1/audit for `f` (empty filters are left out; `format=csv` for the download). */
export function auditQuery(f: AuditFilters, format: "json" | "csv" = "json"): URLSearchParams {
  const q = new URLSearchParams();
  if (f.actor.trim()) q.set("actor", f.actor.trim());
  if (f.action) q.set("action", f.action);
  if (f.outcome) q.set("outcome", f.outcome);
  q.set("limit", String(f.limit));
  if (format === "csv") q.set("format", "csv");
  return q;
}

/** A stable key of the filters, for polling: a change starts afresh. */
export function filtersKey(f: AuditFilters): string {
  return auditQuery(f).toString();
}

const KIND_WORD: Record<string, string> = { token: "API token", device: "device", oidc: "SSO", cli: "CLI" };

/** Who acted, as a person reads it: "olga" (dashboard session), "sim (API token)", "mill-01 (device)". */
export function actorLabel(e: Pick<AuditEntry, "actor" | "actor_kind">): string {
  const word = e.actor_kind ? KIND_WORD[e.actor_kind] : undefined;
  return word ? `${e.actor} (${word})` : e.actor;
}
