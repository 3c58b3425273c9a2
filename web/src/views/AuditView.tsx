// The audit trail (admins): who did what, when, from where, and how it ended — filtered, refreshed, downloadable.

import { useMemo, useState } from "react";
import { api } from "../api/client";
import type { AuditEntry } from "../api/types";
import { ACTION_GROUPS, actorLabel, auditQuery, filtersKey, NO_FILTERS, OUTCOMES, type AuditFilters } from "../audit";
import { formatAgo, formatTime } from "../format";
import { usePolling } from "../hooks/usePolling";
import { refusal, useSession } from "../session";

const OUTCOME_CLASS: Record<string, string> = { success: "ok", failure: "bad", denied: "warn" };

function Row({ e }: { e: AuditEntry }) {
  return (
    <tr data-testid="audit-row" data-action={e.action} data-outcome={e.outcome}>
      <td className="num" title={e.ts}>
        {formatTime(e.ts)} <span className="faint ago">({formatAgo(e.ts)})</span>
      </td>
      <td>{actorLabel(e)}</td>
      <td className="muted audit-from">{e.source || "—"}</td>
      <td>
        <code>{e.action}</code>
      </td>
      <td>{e.target || "—"}</td>
      <td>
        <span className={`outcome ${OUTCOME_CLASS[e.outcome] ?? ""}`}>{e.outcome}</span>
      </td>
      <td className="muted audit-detail">{e.detail}</td>
    </tr>
  );
}

export function AuditView() {
  const me = useSession();
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS);
  const [actorDraft, setActorDraft] = useState("");
  const refused = refusal(me, "admin");
  const key = refused ? null : filtersKey(filters);
  const query = useMemo(() => auditQuery(filters), [filters]);
  const { data, error } = usePolling(key, () => api.audit(query), 10_000, "the audit trail");
  const set = (patch: Partial<AuditFilters>): void => setFilters((f) => ({ ...f, ...patch }));

  if (refused)
    return (
      <div className="scroll">
        <div className="card empty" data-testid="audit-refused">
          The audit trail {refused}.
        </div>
      </div>
    );
  return (
    <div className="scroll" data-testid="audit">
      <div className="card">
        <div className="card-h audit-filters">
          Audit trail
          <span className="spacer" />
          <form
            onSubmit={(ev) => {
              ev.preventDefault();
              set({ actor: actorDraft });
            }}
          >
            <input
              type="search"
              placeholder="who (exact name)"
              aria-label="who"
              value={actorDraft}
              onChange={(ev) => setActorDraft(ev.target.value)}
              onBlur={() => set({ actor: actorDraft })}
              data-testid="audit-actor"
            />
          </form>
          <select
            aria-label="action"
            value={filters.action}
            onChange={(ev) => set({ action: ev.target.value })}
            data-testid="audit-action"
          >
            {ACTION_GROUPS.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
          <select
            aria-label="outcome"
            value={filters.outcome}
            onChange={(ev) => set({ outcome: ev.target.value as AuditFilters["outcome"] })}
            data-testid="audit-outcome"
          >
            <option value="">any outcome</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
          <a className="btn sm" href={api.auditCsvHref(auditQuery(filters, "csv"))} data-testid="audit-csv" download>
            Download CSV
          </a>
        </div>
        {error && (
          <div className="notice bad" role="alert" data-testid="audit-error">
            Could not load the audit trail: {error}
            {data && " — the entries below are from the last successful load."}
          </div>
        )}
        <div className="audit-table">
          {data === null ? (
            <div className="empty">{error ? "No entries loaded." : "Loading…"}</div>
          ) : data.length === 0 ? (
            <div className="empty">No entries match these filters.</div>
          ) : (
            <table className="t">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th className="audit-from">From</th>
                  <th>Action</th>
                  <th>On</th>
                  <th>Outcome</th>
                  <th>Detail</th>
                </tr>
              </thead>
              <tbody>
                {data.map((e, i) => (
                  <Row key={e.id ?? `${e.ts}-${i}`} e={e} />
                ))}
              </tbody>
            </table>
          )}
        </div>
        {data !== null && data.length >= filters.limit && (
          <div className="card-b faint" data-testid="audit-more">
            Showing the newest {filters.limit}.{" "}
            <button className="btn sm" onClick={() => set({ limit: filters.limit * 5 })}>
              Show {filters.limit * 5}
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
