// #/profiles: the machine profiles (docs/PROFILES.md): list, create, edit a new version, DTDL import and export.
// Saving needs the engineer role; everyone else reads. A save is shown as saved only once the server answered it;
// its 422 problems are shown at their fields (the browser's own checks first, the server has the last word).

import { useCallback, useEffect, useState } from "react";
import { api, ApiError, type FieldError as Problem } from "../api/client";
import { FieldError } from "../components/FieldError";
import type { ProfileBody, ProfileSensor, StoredProfile } from "../api/types";
import { notify } from "../components/Toast";
import { errorText } from "../hooks/usePolling";
import { blankProfile, blankSensor, bodyOf, clientProblems, problemsByPath } from "../profileEdit";
import { refusal, useSession } from "../session";
import { AppearancePicker } from "./AppearancePicker";

type Save =
  { state: "idle" } | { state: "saving" } | { state: "saved"; version: number } | { state: "failed"; why: string };

/** The unit symbols of the contract's unit enum (loaded with the editor only: the schema file is large). */
function useUnits(): string[] {
  const [units, setUnits] = useState<string[]>(["°C"]);
  useEffect(() => {
    void import("../api/openapi.json").then((doc) => {
      const unit = (doc.default.components.schemas.ProfileSensor.properties as Record<string, { enum?: string[] }>)
        .unit;
      if (unit?.enum) setUnits(unit.enum);
    });
  }, []);
  return units;
}

function num(v: string): number {
  return v.trim() === "" ? Number.NaN : Number(v);
}

function SensorRow(props: {
  s: ProfileSensor;
  i: number;
  units: string[];
  ro: boolean;
  problems: Record<string, string>;
  set: (s: ProfileSensor) => void;
  remove: () => void;
}) {
  const { s, i, units, ro, problems, set, remove } = props;
  const at = `sensors.${i}`;
  const cell = (field: keyof ProfileSensor, input: React.JSX.Element) => (
    <td>
      {input}
      <FieldError at={`${at}.${field}`} problems={problems} />
    </td>
  );
  const numIn = (field: "low" | "high" | "normal_low" | "normal_high") =>
    cell(
      field,
      <input
        type="number"
        value={Number.isFinite(s[field]) ? s[field] : ""}
        disabled={ro}
        onChange={(e) => set({ ...s, [field]: num(e.target.value) })}
        data-testid={`sensor-${i}-${field}`}
        aria-label={field}
      />,
    );
  return (
    <tr data-testid={`sensor-${i}`}>
      {cell(
        "key",
        <input
          value={s.key}
          disabled={ro}
          onChange={(e) => set({ ...s, key: e.target.value })}
          data-testid={`sensor-${i}-key`}
          aria-label="key"
        />,
      )}
      {cell(
        "label",
        <input
          value={s.label}
          disabled={ro}
          onChange={(e) => set({ ...s, label: e.target.value })}
          data-testid={`sensor-${i}-label`}
          aria-label="label"
        />,
      )}
      {cell(
        "unit",
        <select
          value={s.unit}
          disabled={ro}
          onChange={(e) => set({ ...s, unit: e.target.value as ProfileSensor["unit"] })}
          data-testid={`sensor-${i}-unit`}
          aria-label="unit"
        >
          {units.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>,
      )}
      {numIn("low")}
      {numIn("high")}
      {numIn("normal_low")}
      {numIn("normal_high")}
      {cell(
        "max_rate",
        <input
          type="number"
          value={s.max_rate ?? ""}
          disabled={ro}
          onChange={(e) => set({ ...s, max_rate: e.target.value === "" ? null : num(e.target.value) })}
          aria-label="max rate"
        />,
      )}
      {cell(
        "activity",
        <input
          type="checkbox"
          checked={s.activity ?? false}
          disabled={ro}
          onChange={(e) => set({ ...s, activity: e.target.checked })}
          aria-label="activity"
        />,
      )}
      <td>
        {!ro && (
          <button className="btn sm ghost" onClick={remove} aria-label="remove sensor">
            ✕
          </button>
        )}
      </td>
    </tr>
  );
}

function DtdlImport({ onDone }: { onDone: (p: StoredProfile) => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const send = (): void => {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      setError(`not JSON: ${String(e)}`);
      return;
    }
    // A bare Interface, or the import request itself ({interface, id, bands, appearance}).
    const body = (doc && typeof doc === "object" && "interface" in doc ? doc : { interface: doc }) as Parameters<
      typeof api.importDtdl
    >[0];
    api.importDtdl(body).then(
      (p) => {
        setError(null);
        onDone(p);
      },
      (e: unknown) => setError(errorText(e)),
    );
  };
  return (
    <div className="card-b dtdl-import">
      <textarea
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder="DTDL v3 Interface JSON, or {interface, bands, appearance}"
        rows={5}
        data-testid="dtdl-text"
      />
      <input
        type="file"
        accept=".json,application/json"
        onChange={(e) => void e.target.files?.[0]?.text().then(setText)}
        aria-label="DTDL file"
      />
      <button className="btn sm" onClick={send} data-testid="dtdl-import">
        Import DTDL
      </button>
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

export function ProfilesView() {
  const me = useSession();
  const refused = refusal(me, "engineer");
  const ro = refused !== null;
  const units = useUnits();
  const [list, setList] = useState<StoredProfile[] | null>(null);
  const [edit, setEdit] = useState<{ body: ProfileBody; isNew: boolean; version: number | null } | null>(null);
  const [server, setServer] = useState<Problem[]>([]);
  const [save, setSave] = useState<Save>({ state: "idle" });
  const [tried, setTried] = useState(false);
  const reload = useCallback(
    () => api.profiles().then(setList, (e: unknown) => notify(`Could not load the profiles: ${errorText(e)}`)),
    [],
  );
  useEffect(() => void reload(), [reload]);
  const open = (p: StoredProfile): void => {
    setEdit({ body: bodyOf(p), isNew: false, version: p.version });
    setServer([]);
    setSave({ state: "idle" });
    setTried(false);
  };
  const problems = edit ? { ...(tried ? clientProblems(edit.body) : {}), ...problemsByPath(server) } : {};
  const set = (body: ProfileBody): void => {
    if (edit) setEdit({ ...edit, body });
    setSave({ state: "idle" });
  };
  const submit = (): void => {
    if (!edit) return;
    setTried(true);
    if (Object.keys(clientProblems(edit.body)).length) return;
    setSave({ state: "saving" });
    api.saveProfile(edit.body, edit.isNew).then(
      (p) => {
        setServer([]);
        setSave({ state: "saved", version: p.version });
        setEdit({ body: bodyOf(p), isNew: false, version: p.version });
        void reload();
      },
      (e: unknown) => {
        setServer(e instanceof ApiError ? e.problems : []);
        setSave({ state: "failed", why: errorText(e) });
      },
    );
  };
  const exportDtdl = (id: string): void => {
    api.exportDtdl(id).then(
      (doc) => {
        const a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
        a.download = `${id}.dtdl.json`;
        a.click();
        URL.revokeObjectURL(a.href);
      },
      (e: unknown) => notify(`Could not export ${id}: ${errorText(e)}`),
    );
  };
  const b = edit?.body;
  return (
    <div className="profiles-view" data-testid="profiles-view">
      <div className="card profiles-list">
        <div className="card-h">
          <b>Profiles</b>
          <span className="spacer" />
          <button
            className="btn sm primary"
            disabled={ro}
            title={refused ?? undefined}
            onClick={() => {
              setEdit({ body: blankProfile(), isNew: true, version: null });
              setServer([]);
              setSave({ state: "idle" });
              setTried(false);
            }}
            data-testid="profile-new"
          >
            New profile
          </button>
        </div>
        {ro && (
          <div className="card-b faint" data-testid="profiles-readonly">
            Read only: saving {refused}.
          </div>
        )}
        <ul className="plist">
          {(list ?? []).map((p) => (
            <li key={p.id}>
              <button
                className={`btn ghost${edit?.body.id === p.id && !edit.isNew ? " active" : ""}`}
                onClick={() => open(p)}
                data-testid={`profile-${p.id}`}
              >
                {p.name}{" "}
                <span className="faint">
                  {p.id} · v{p.version}
                  {p.bundled ? " · bundled" : ""}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {!ro && (
          <DtdlImport
            onDone={(p) => {
              void reload();
              open(p);
            }}
          />
        )}
      </div>
      {b && edit && (
        <div className="card profile-form" data-testid="profile-form">
          <div className="card-h">
            <b>{edit.isNew ? "New profile" : b.name}</b>
            {edit.version !== null && (
              <span className="pill" data-testid="profile-version">
                version {edit.version}
              </span>
            )}
            <span className="spacer" />
            {!edit.isNew && (
              <button className="btn sm" onClick={() => exportDtdl(b.id)} data-testid="dtdl-export">
                Export DTDL
              </button>
            )}
          </div>
          <div className="card-b form-grid">
            <label>
              Id
              <input
                value={b.id}
                disabled={ro || !edit.isNew}
                onChange={(e) => set({ ...b, id: e.target.value })}
                data-testid="profile-id"
              />
              <FieldError at="id" problems={problems} />
            </label>
            <label>
              Name
              <input
                value={b.name}
                disabled={ro}
                onChange={(e) => set({ ...b, name: e.target.value })}
                data-testid="profile-name"
              />
              <FieldError at="name" problems={problems} />
            </label>
            <label className="wide">
              Description
              <input
                value={b.description ?? ""}
                disabled={ro}
                onChange={(e) => set({ ...b, description: e.target.value })}
              />
            </label>
          </div>
          <div className="card-b">
            <b>Sensors</b>
            <FieldError at="sensors" problems={problems} />
            <div className="table-scroll">
              <table className="t sensors-table">
                <thead>
                  <tr>
                    <th>Key</th>
                    <th>Label</th>
                    <th>Unit</th>
                    <th>Low</th>
                    <th>High</th>
                    <th>Normal low</th>
                    <th>Normal high</th>
                    <th>Max rate /s</th>
                    <th>Activity</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {b.sensors.map((s, i) => (
                    <SensorRow
                      key={i}
                      s={s}
                      i={i}
                      units={units}
                      ro={ro}
                      problems={problems}
                      set={(n) => set({ ...b, sensors: b.sensors.map((o, j) => (j === i ? n : o)) })}
                      remove={() => set({ ...b, sensors: b.sensors.filter((_, j) => j !== i) })}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            {!ro && (
              <button
                className="btn sm"
                onClick={() => set({ ...b, sensors: [...b.sensors, blankSensor(b.sensors.length + 1)] })}
                data-testid="sensor-add"
              >
                Add sensor
              </button>
            )}
          </div>
          <div className="card-b">
            <b>Commands</b>
            {(b.commands ?? []).map((c, i) => (
              <div key={i} className="command-row">
                <input
                  value={c.key}
                  disabled={ro}
                  aria-label="command key"
                  onChange={(e) =>
                    set({
                      ...b,
                      commands: (b.commands ?? []).map((o, j) => (j === i ? { ...o, key: e.target.value } : o)),
                    })
                  }
                />
                <input
                  value={c.label}
                  disabled={ro}
                  aria-label="command label"
                  onChange={(e) =>
                    set({
                      ...b,
                      commands: (b.commands ?? []).map((o, j) => (j === i ? { ...o, label: e.target.value } : o)),
                    })
                  }
                />
                {!ro && (
                  <button
                    className="btn sm ghost"
                    onClick={() => set({ ...b, commands: (b.commands ?? []).filter((_, j) => j !== i) })}
                  >
                    ✕
                  </button>
                )}
                <FieldError at={`commands.${i}.key`} problems={problems} />
              </div>
            ))}
            {!ro && (
              <button
                className="btn sm"
                onClick={() => set({ ...b, commands: [...(b.commands ?? []), { key: "stop", label: "Stop" }] })}
              >
                Add command
              </button>
            )}
          </div>
          <div className="card-b">
            <b>Appearance</b>
            <AppearancePicker value={b.appearance} ro={ro} onChange={(appearance) => set({ ...b, appearance })} />
            <FieldError at="appearance" problems={problems} />
            <FieldError at="appearance.asset_id" problems={problems} />
          </div>
          <div className="card-b save-row">
            <button
              className="btn primary"
              disabled={ro || save.state === "saving"}
              title={refused ?? undefined}
              onClick={submit}
              data-testid="profile-save"
            >
              {edit.isNew ? "Create profile" : "Save new version"}
            </button>
            <span data-testid="profile-save-state" data-state={save.state}>
              {ro
                ? `Saving ${refused}.`
                : save.state === "saving"
                  ? "Saving…"
                  : save.state === "saved"
                    ? `Saved as version ${save.version}.`
                    : save.state === "failed"
                      ? `Not saved: ${save.why}`
                      : tried && Object.keys(problems).length
                        ? "Not saved: fix the fields marked."
                        : ""}
            </span>
          </div>
        </div>
      )}
    </div>
  );
}
