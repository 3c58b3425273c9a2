// The floor's edit mode (engineer role): add a machine of a profile by dragging it onto the floor, drag a machine
// to move it, rotate it ([ and ] or the buttons), edit its name, line, metadata and band overrides, delete it.
// Every change goes through the REST routes; the floor shows a change as saved only when the plant reloaded after
// the server's machine_changed message. Until then the machine stands where it was dragged, marked "saving"; a
// refused change goes back and says why.

import { useCallback, useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import type { FactoryLayout, Machine, StoredProfile } from "../api/types";
import type { EditCanvas } from "../floor/EditDrag";
import { errorText } from "../hooks/usePolling";

type Pending = {
  machine: Machine | null;
  op: "create" | "update" | "delete";
  state: "saving" | "failed";
  why?: string;
};

/** The fields the floor shows (the server may spell the rest differently, e.g. absent vs empty metadata). */
function same(a: Machine, b: Machine): boolean {
  return a.x === b.x && a.y === b.y && a.rotation === b.rotation && a.name === b.name && a.line === b.line;
}

/** The edit state, the machines to draw (the layout with pending changes applied) and the canvas handlers. */
export function useFloorEdit(layout: FactoryLayout, onSelect: (id: string | null) => void) {
  const [on, setOn] = useState(false);
  const [draft, setDraft] = useState<Machine | null>(null);
  const [drag, setDrag] = useState<{ machine: Machine; isNew: boolean } | null>(null);
  const [all, setPending] = useState<Record<string, Pending>>({});
  // A change the reloaded plant (after the server's machine_changed) shows is done: only the others are pending.
  const pending = useMemo(() => {
    const out: Record<string, Pending> = {};
    for (const [id, v] of Object.entries(all)) {
      const now = layout.machines.find((m) => m.id === id);
      const done = v.state === "saving" && (v.op === "delete" ? !now : !!now && !!v.machine && same(now, v.machine));
      if (!done) out[id] = v;
    }
    return out;
  }, [all, layout]);
  const save = useCallback((m: Machine, op: "create" | "update") => {
    setPending((p) => ({ ...p, [m.id]: { machine: m, op, state: "saving" } }));
    (op === "create" ? api.createMachine(m) : api.updateMachine(m)).then(
      () => undefined,
      (e: unknown) => setPending((p) => ({ ...p, [m.id]: { machine: m, op, state: "failed", why: errorText(e) } })),
    );
  }, []);
  const remove = useCallback(
    (id: string) => {
      onSelect(null); // its panel closes first: nothing asks for a machine that is going away
      setPending((p) => ({ ...p, [id]: { machine: null, op: "delete", state: "saving" } }));
      api.deleteMachine(id).then(
        () => undefined,
        (e: unknown) =>
          setPending((p) => ({ ...p, [id]: { machine: null, op: "delete", state: "failed", why: errorText(e) } })),
      );
    },
    [onSelect],
  );
  const machines = useMemo(() => {
    const out: Machine[] = [];
    for (const m of layout.machines) {
      const p = pending[m.id];
      if (drag && !drag.isNew && drag.machine.id === m.id) out.push(drag.machine);
      else if (p?.state === "saving" && p.op === "delete") continue;
      else out.push(p?.state === "saving" && p.machine ? p.machine : m);
    }
    for (const [id, p] of Object.entries(pending))
      if (p.op === "create" && p.state === "saving" && p.machine && !layout.machines.some((m) => m.id === id))
        out.push(p.machine);
    if (drag?.isNew) out.push(drag.machine);
    return out;
  }, [layout, pending, drag]);
  const canvas: EditCanvas | null = useMemo(() => {
    if (!on) return null;
    return {
      placing: draft !== null,
      dragging: drag !== null,
      grab: (id) => {
        const m = machines.find((x) => x.id === id);
        if (m) setDrag({ machine: m, isNew: false });
      },
      start: (x, y) => draft && setDrag({ machine: { ...draft, x, y }, isNew: true }),
      move: (x, y) => setDrag((d) => (d ? { ...d, machine: { ...d.machine, x, y } } : d)),
      drop: (x, y) => {
        if (!drag) return;
        const m = { ...drag.machine, x, y };
        setDrag(null);
        if (drag.isNew) {
          setDraft(null);
          save(m, "create");
          onSelect(m.id);
        } else if (
          m.x !== layout.machines.find((o) => o.id === m.id)?.x ||
          m.y !== layout.machines.find((o) => o.id === m.id)?.y
        ) {
          save(m, "update");
        }
      },
    };
  }, [on, draft, drag, machines, layout, save, onSelect]);
  return { on, setOn, draft, setDraft, pending, machines, canvas, save, remove };
}

export type FloorEdit = ReturnType<typeof useFloorEdit>;

/** The edit bar over the floor: the toggle, the add form, and what is being saved or was refused. */
export function EditBar({ edit, layout, refused }: { edit: FloorEdit; layout: FactoryLayout; refused: string | null }) {
  const [profiles, setProfiles] = useState<StoredProfile[]>([]);
  const [form, setForm] = useState({ profile: "", id: "", name: "", line: layout.lines[0]?.id ?? "" });
  useEffect(() => {
    if (edit.on) api.profiles().then(setProfiles, () => setProfiles([]));
  }, [edit.on]);
  const taken = layout.machines.some((m) => m.id === form.id);
  const ready = form.profile && form.id && form.name && form.line && !taken;
  return (
    <div className="edit-bar card" data-testid="edit-bar">
      <button
        className={`btn sm${edit.on ? " primary" : ""}`}
        disabled={refused !== null}
        title={refused ?? "add, move, rotate and delete machines"}
        onClick={() => {
          edit.setOn(!edit.on);
          edit.setDraft(null);
        }}
        data-testid="edit-toggle"
      >
        {edit.on ? "Done editing" : "Edit floor"}
      </button>
      {refused && <span className="faint">Editing {refused}.</span>}
      {edit.on && (
        <>
          <select
            value={form.profile}
            onChange={(e) => setForm({ ...form, profile: e.target.value })}
            data-testid="add-profile"
            aria-label="profile"
          >
            <option value="">profile…</option>
            {profiles.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
          <input
            placeholder="id"
            value={form.id}
            onChange={(e) => setForm({ ...form, id: e.target.value })}
            data-testid="add-id"
            aria-label="machine id"
          />
          <input
            placeholder="name"
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
            data-testid="add-name"
            aria-label="machine name"
          />
          <select
            value={form.line}
            onChange={(e) => setForm({ ...form, line: e.target.value })}
            data-testid="add-line"
            aria-label="line"
          >
            {layout.lines.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
          <button
            className="btn sm go"
            disabled={!ready}
            title={taken ? `id ${form.id} is taken` : undefined}
            onClick={() =>
              edit.setDraft({
                id: form.id,
                name: form.name,
                profile: form.profile,
                line: form.line,
                x: 0,
                y: 0,
                rotation: 0,
                metadata: {},
                bands: {},
              })
            }
            data-testid="add-place"
          >
            {edit.draft ? "Drag on the floor to place it" : "Add machine"}
          </button>
          {taken && <span className="field-error">id {form.id} is taken</span>}
        </>
      )}
      {Object.entries(edit.pending).map(([id, p]) => (
        <span
          key={id}
          className={p.state === "failed" ? "failed" : "pending"}
          data-testid={`pending-${id}`}
          data-state={p.state}
        >
          {p.state === "saving" ? `${id}: saving ${p.op}…` : `${id}: ${p.op} not saved: ${p.why ?? ""}`}
        </span>
      ))}
    </div>
  );
}

/** The selected machine's edit panel: name, line, rotation, metadata and band overrides (JSON), delete. */
export function MachineEditPanel({
  machine,
  edit,
  layout,
}: {
  machine: Machine;
  edit: FloorEdit;
  layout: FactoryLayout;
}) {
  const [name, setName] = useState(machine.name);
  const [line, setLine] = useState(machine.line);
  const [meta, setMeta] = useState(JSON.stringify(machine.metadata ?? {}, null, 1));
  const [bands, setBands] = useState(JSON.stringify(machine.bands ?? {}, null, 1));
  const [error, setError] = useState<string | null>(null);
  const rotate = (by: number): void =>
    edit.save({ ...machine, rotation: (((machine.rotation + by) % 360) + 360) % 360 }, "update");
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      if (e.key === "[") rotate(-15);
      if (e.key === "]") rotate(15);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });
  const apply = (): void => {
    try {
      const metadata = JSON.parse(meta) as Machine["metadata"];
      const b = JSON.parse(bands) as Machine["bands"];
      setError(null);
      edit.save({ ...machine, name, line, metadata, bands: b }, "update");
    } catch (e) {
      setError(`not JSON: ${String(e)}`);
    }
  };
  return (
    <div className="card machine-edit" data-testid="machine-edit">
      <div className="card-h">
        <b>Edit {machine.id}</b>
        <span className="faint">
          {machine.profile} · x {machine.x} · y {machine.y} · {machine.rotation}°
        </span>
      </div>
      <div className="card-b form-grid">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="edit-name" />
        </label>
        <label>
          Line
          <select value={line} onChange={(e) => setLine(e.target.value)}>
            {layout.lines.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Metadata (JSON)
          <textarea value={meta} rows={3} onChange={(e) => setMeta(e.target.value)} data-testid="edit-metadata" />
        </label>
        <label>
          Band overrides (JSON: {"{"}"sensor": {"{"}"normal_low", "normal_high"{"}"}
          {"}"})
          <textarea value={bands} rows={3} onChange={(e) => setBands(e.target.value)} data-testid="edit-bands" />
        </label>
      </div>
      <div className="card-b save-row">
        <button className="btn sm primary" onClick={apply} data-testid="edit-save">
          Save
        </button>
        <button className="btn sm" onClick={() => rotate(-15)} data-testid="edit-rotate-left" title="[ key">
          ⟲ 15°
        </button>
        <button className="btn sm" onClick={() => rotate(15)} data-testid="edit-rotate-right" title="] key">
          ⟳ 15°
        </button>
        <button
          className="btn sm danger"
          onClick={() => {
            if (window.confirm(`Delete machine ${machine.id} (${machine.name})? Its history stays in the store.`))
              edit.remove(machine.id);
          }}
          data-testid="edit-delete"
        >
          Delete
        </button>
        {error && <span className="field-error">{error}</span>}
      </div>
    </div>
  );
}
