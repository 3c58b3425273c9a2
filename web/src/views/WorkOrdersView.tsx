// Work orders (what a maintenance engineer runs): a filtered list (downloadable for a CMMS), one order's detail with
// its moves, notes and history, and a form to open one by hand. Orders from an alarm or a visit of the maintenance
// schedule are opened from the alarm table and the schedule (Overview).

import { useMemo, useState } from "react";
import { api } from "../api/client";
import type { WorkOrder, WorkOrderState } from "../api/types";
import { notify } from "../components/Toast";
import { useFactory } from "../context";
import { formatAgo, formatTime } from "../format";
import { errorText, usePolling } from "../hooks/usePolling";
import { refusal, useSession } from "../session";
import {
  lastStep,
  MOVE_LABEL,
  NEXT,
  NO_WO_FILTERS,
  STATE_LABEL,
  STATES,
  workOrderExportQuery,
  workOrderQuery,
  type WorkOrderFilters,
} from "../workorders";

function StateTag({ state }: { state: WorkOrderState }) {
  return (
    <span className={`wo-state wo-${state}`} data-testid="wo-state">
      {STATE_LABEL[state]}
    </span>
  );
}

function NewOrder({ onCreated }: { onCreated: (o: WorkOrder) => void }) {
  const info = useFactory();
  const [machine, setMachine] = useState(info.layout.machines[0]?.id ?? "");
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (): Promise<void> => {
    setBusy(true);
    try {
      const o = await api.createWorkOrder({ machine_id: machine, title: title.trim(), description: "" });
      notify(`Work order #${o.id} opened`, "ok");
      setTitle("");
      onCreated(o);
    } catch (e) {
      notify(`Could not open the work order: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="card-b wo-new"
      data-testid="wo-new"
      onSubmit={(ev) => {
        ev.preventDefault();
        void submit();
      }}
    >
      <select
        aria-label="machine"
        value={machine}
        onChange={(e) => setMachine(e.target.value)}
        data-testid="wo-new-machine"
      >
        {info.layout.machines.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
      <input
        aria-label="title"
        placeholder="what is to be done"
        value={title}
        maxLength={200}
        onChange={(e) => setTitle(e.target.value)}
        data-testid="wo-new-title"
      />
      <button className="btn sm" disabled={busy || !title.trim() || !machine} data-testid="wo-new-submit">
        Open work order
      </button>
    </form>
  );
}

function Detail({ id, canWrite, onChanged }: { id: number; canWrite: string | null; onChanged: () => void }) {
  const info = useFactory();
  const [version, setVersion] = useState(0);
  const { data: order, error } = usePolling(`${id}:${version}`, () => api.workOrder(id), 15_000, "the work order");
  const [assignee, setAssignee] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const act = async (what: string, call: () => Promise<WorkOrder>): Promise<void> => {
    setBusy(true);
    try {
      await call();
      setVersion((v) => v + 1);
      onChanged();
    } catch (e) {
      notify(`Could not ${what}: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  if (error && !order)
    return (
      <div className="card empty">
        Could not load work order #{id}: {error}
      </div>
    );
  if (!order) return <div className="card empty">Loading…</div>;
  const move = (state: WorkOrderState): void => {
    const who = assignee.trim();
    void act(`move it to ${STATE_LABEL[state]}`, () =>
      api.transitionWorkOrder(order.id, state === "assigned" || who ? { state, assignee: who || null } : { state }),
    );
  };
  return (
    <div className="card" data-testid="wo-detail" data-id={order.id} data-state={order.state}>
      <div className="card-h">
        #{order.id} {order.title}
        <span className="spacer" />
        <StateTag state={order.state} />
      </div>
      <div className="card-b">
        <p>
          {info.byId[order.machine_id]?.name ?? order.machine_id}
          {order.source === "alarm"
            ? ` · from alarm #${order.alarm_id ?? "?"}`
            : order.source === "schedule"
              ? ` · from the maintenance schedule, visit planned for the shift of ${formatTime(order.planned_for)}`
              : " · opened by hand"}
          {` · by ${order.created_by}, ${formatTime(order.created_at)}`}
          {order.assignee ? ` · assigned to ${order.assignee}` : ""}
        </p>
        {order.description && <p className="muted">{order.description}</p>}
        {(order.parts ?? []).length > 0 && <p>Parts: {(order.parts ?? []).join(", ")}</p>}
        {canWrite ? (
          <p className="muted" data-testid="wo-refused">
            Changing work orders {canWrite}.
          </p>
        ) : (
          NEXT[order.state].length > 0 && (
            <div className="wo-moves">
              <input
                aria-label="assignee"
                placeholder={order.assignee ?? "technician"}
                value={assignee}
                maxLength={64}
                onChange={(e) => setAssignee(e.target.value)}
                data-testid="wo-assignee"
              />
              {NEXT[order.state].map((s) => (
                <button
                  key={s}
                  className="btn sm"
                  disabled={busy || (s === "assigned" && !assignee.trim())}
                  onClick={() => move(s)}
                  data-testid={`wo-move-${s}`}
                >
                  {MOVE_LABEL[s]}
                </button>
              ))}
            </div>
          )
        )}
        <h3>History</h3>
        <ol className="wo-steps" data-testid="wo-steps">
          {(order.steps ?? []).map((s, i) => (
            <li key={i} data-state={s.state}>
              {STATE_LABEL[s.state]} — {s.by}, <span title={s.at}>{formatTime(s.at)}</span>
            </li>
          ))}
        </ol>
        <h3>Notes</h3>
        {(order.notes ?? []).length === 0 ? (
          <p className="faint">No notes.</p>
        ) : (
          <ul className="wo-notes" data-testid="wo-notes">
            {(order.notes ?? []).map((n, i) => (
              <li key={i}>
                <b>{n.by}</b> <span className="faint">{formatTime(n.at)}</span>: {n.text}
              </li>
            ))}
          </ul>
        )}
        {!canWrite && (
          <form
            onSubmit={(ev) => {
              ev.preventDefault();
              const text = note.trim();
              if (text) void act("add the note", () => api.noteWorkOrder(order.id, text)).then(() => setNote(""));
            }}
          >
            <input
              aria-label="note"
              placeholder="add a note"
              value={note}
              maxLength={2000}
              onChange={(e) => setNote(e.target.value)}
              data-testid="wo-note"
            />
            <button className="btn sm" disabled={busy || !note.trim()} data-testid="wo-note-submit">
              Add note
            </button>
          </form>
        )}
      </div>
    </div>
  );
}

export function WorkOrdersView({ order, onOrder }: { order: number | null; onOrder: (id: number | null) => void }) {
  const info = useFactory();
  const canWrite = refusal(useSession(), "operator");
  const [filters, setFilters] = useState<WorkOrderFilters>(NO_WO_FILTERS);
  const [reload, setReload] = useState(0);
  const query = useMemo(() => workOrderQuery(filters), [filters]);
  const key = `${query.toString()}:${reload}`;
  const { data, error } = usePolling(key, () => api.workOrders(query), 15_000, "the work orders");
  const changed = (): void => setReload((r) => r + 1);
  return (
    <div className="scroll" data-testid="workorders">
      <div className="card">
        <div className="card-h">
          Work orders
          <span className="spacer" />
          <select
            aria-label="machine"
            value={filters.machine}
            onChange={(e) => setFilters((f) => ({ ...f, machine: e.target.value }))}
            data-testid="wo-filter-machine"
          >
            <option value="">every machine</option>
            {info.layout.machines.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
          <select
            aria-label="state"
            value={filters.state}
            onChange={(e) => setFilters((f) => ({ ...f, state: e.target.value as WorkOrderFilters["state"] }))}
            data-testid="wo-filter-state"
          >
            <option value="active">not finished</option>
            <option value="">any state</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {STATE_LABEL[s]}
              </option>
            ))}
          </select>
          <a
            className="btn sm"
            href={api.workOrdersExportHref(workOrderExportQuery(filters))}
            download
            title="Every work order these filters match, as CSV for a CMMS import"
            data-testid="wo-csv"
          >
            CSV
          </a>
        </div>
        {!canWrite && (
          <NewOrder
            onCreated={(o) => {
              changed();
              onOrder(o.id);
            }}
          />
        )}
        {error && (
          <div className="notice bad" role="alert">
            Could not load the work orders: {error}
            {data && " — the list below is from the last successful load."}
          </div>
        )}
        {data === null ? (
          <div className="empty">{error ? "No work orders loaded." : "Loading…"}</div>
        ) : data.length === 0 ? (
          <div className="empty" data-testid="wo-empty">
            No work orders match these filters.
          </div>
        ) : (
          <table className="t">
            <thead>
              <tr>
                <th>#</th>
                <th>Machine</th>
                <th>Title</th>
                <th>State</th>
                <th>Assignee</th>
                <th>Last change</th>
              </tr>
            </thead>
            <tbody>
              {data.map((o) => {
                const step = lastStep(o);
                return (
                  <tr
                    key={o.id}
                    data-testid="wo-row"
                    data-id={o.id}
                    data-state={o.state}
                    className={o.id === order ? "selected" : undefined}
                    onClick={() => onOrder(o.id)}
                    style={{ cursor: "pointer" }}
                  >
                    <td className="num">{o.id}</td>
                    <td>{info.byId[o.machine_id]?.name ?? o.machine_id}</td>
                    <td>{o.title}</td>
                    <td>
                      <StateTag state={o.state} />
                    </td>
                    <td>{o.assignee ?? "—"}</td>
                    <td className="muted">{step ? `${step.by}, ${formatAgo(step.at)}` : "—"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
      {order !== null && <Detail key={order} id={order} canWrite={canWrite} onChanged={changed} />}
    </div>
  );
}
