// The History view's saved views: "Save view" (a name, shared or not; operator role), the list of the views the
// user may open (their own and the shared ones) with Rename, Share / Make private and Delete for their owner and
// admins, and "Copy link".
// Nothing is said to have happened before the server (or the clipboard) answered: a save shows "Saving…", then
// "Saved" or the server's own error; a rename "Renaming…", then the new name in the list or "Not renamed: <why>".

import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import type { SavedView } from "../api/types";
import { errorText } from "../hooks/usePolling";
import { checkName, mayChange, MAX_VIEW_NAME, renameStep, replaceView, viewLink, type Rename } from "../savedViews";
import { refusal, useSession } from "../session";

type Phase =
  { state: "idle" } | { state: "pending" } | { state: "done"; text: string } | { state: "error"; text: string };

function useSavedViews(): {
  views: SavedView[] | null;
  error: string | null;
  reload: () => void;
  answered: (view: SavedView) => void;
} {
  const [views, setViews] = useState<SavedView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let cancelled = false;
    api.views().then(
      (v) => {
        if (cancelled) return;
        setViews(v);
        setError(null);
      },
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  // a view as the server answered a change of it, shown at once (the next reload brings everyone else's changes)
  const answered = useCallback((view: SavedView) => setViews((vs) => replaceView(vs, view)), []);
  return { views, error, reload, answered };
}

function CopyLink({ hash }: { hash: string }) {
  const [phase, setPhase] = useState<Phase>({ state: "idle" });
  const link = viewLink(window.location, hash);
  const copy = (): void => {
    setPhase({ state: "pending" });
    // the clipboard needs a secure context (https or localhost): elsewhere the link is shown to copy by hand
    const clip = typeof navigator !== "undefined" ? navigator.clipboard : undefined;
    if (!clip) {
      setPhase({ state: "error", text: "no clipboard here: copy the link below" });
      return;
    }
    clip.writeText(link).then(
      () => setPhase({ state: "done", text: "Link copied." }),
      (e: unknown) => setPhase({ state: "error", text: `not copied (${errorText(e)}): copy the link below` }),
    );
  };
  return (
    <>
      <button className="btn sm" onClick={copy} data-testid="history-copy-link" title={link}>
        Copy link
      </button>
      {phase.state === "done" && (
        <span className="faint" data-testid="history-copy-state">
          {phase.text}
        </span>
      )}
      {phase.state === "error" && (
        <span className="faint" data-testid="history-copy-state">
          {phase.text} <input readOnly value={link} onFocus={(e) => e.target.select()} style={{ width: 320 }} />
        </span>
      )}
    </>
  );
}

/** The rename of one saved view: its new name, Save and Cancel, and the rename's state as it is (the problem with
 * the name, "Renaming…" while the server has not answered, or its refusal). */
function RenameForm({
  rename,
  onStep,
  onSubmit,
}: {
  rename: NonNullable<Rename>;
  onStep: (update: (r: Rename) => Rename) => void;
  onSubmit: () => Promise<void>;
}) {
  const pending = rename.state === "pending";
  const said =
    rename.state === "pending"
      ? "Renaming…"
      : rename.state === "failed"
        ? `Not renamed: ${rename.reason}`
        : rename.problem;
  return (
    <form
      className="rename-form"
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
      data-testid="history-view-rename-form"
      data-state={rename.state}
    >
      <input
        autoFocus
        aria-label={`new name of “${rename.from}”`}
        maxLength={MAX_VIEW_NAME}
        value={rename.draft}
        disabled={pending}
        onChange={(e) => {
          const draft = e.target.value;
          onStep((r) => renameStep(r, { type: "edit", draft }));
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape") onStep((r) => renameStep(r, { type: "cancel" }));
        }}
        data-testid="history-view-rename-name"
      />
      <button className="btn sm" type="submit" disabled={pending} data-testid="history-view-rename-submit">
        {pending ? "Renaming…" : "Save name"}
      </button>
      <button
        className="btn sm"
        type="button"
        disabled={pending}
        onClick={() => onStep((r) => renameStep(r, { type: "cancel" }))}
        data-testid="history-view-rename-cancel"
      >
        Cancel
      </button>
      {said && (
        <span
          className={rename.state === "pending" ? "faint" : "error-text"}
          role={rename.state === "failed" ? "alert" : undefined}
          data-testid="history-view-rename-state"
          data-state={rename.state}
        >
          {said}
        </span>
      )}
    </form>
  );
}

export function SavedViews({ hash }: { hash: string }) {
  const me = useSession();
  const refused = refusal(me, "operator");
  const { views, error, reload, answered } = useSavedViews();
  const [rename, setRename] = useState<Rename>(null);
  const [form, setForm] = useState<{ name: string; shared: boolean } | null>(null);
  const [phase, setPhase] = useState<Phase>({ state: "idle" });
  const [removing, setRemoving] = useState<number | null>(null);
  const [sharing, setSharing] = useState<number | null>(null);

  const save = async (): Promise<void> => {
    if (!form) return;
    const checked = checkName(form.name);
    if ("problem" in checked) {
      setPhase({ state: "error", text: checked.problem });
      return;
    }
    setPhase({ state: "pending" });
    try {
      const saved = await api.saveView({ name: checked.name, hash, shared: form.shared });
      setPhase({ state: "done", text: `Saved “${saved.name}”${saved.shared ? " (shared)" : ""}.` });
      setForm(null);
      reload();
    } catch (e) {
      setPhase({ state: "error", text: `Not saved: ${errorText(e)}` });
    }
  };
  const submitRename = async (): Promise<void> => {
    const next = renameStep(rename, { type: "submit" });
    setRename(next);
    if (next?.state !== "pending" || rename?.state === "pending") return;
    try {
      const updated = await api.patchView(next.id, { name: next.draft });
      setRename((r) => renameStep(r, { type: "answered", id: next.id, view: updated }));
      answered(updated);
      setPhase({ state: "done", text: `Renamed “${next.from}” to “${updated.name}”.` });
    } catch (e) {
      setRename((r) => renameStep(r, { type: "refused", id: next.id, reason: errorText(e) }));
    }
  };
  // Share or make private: the list shows the server's answer, never the wish (the button says so meanwhile).
  const toggleShared = async (v: SavedView): Promise<void> => {
    setSharing(v.id);
    try {
      const updated = await api.patchView(v.id, { shared: !v.shared });
      answered(updated);
      setPhase({ state: "done", text: `“${updated.name}” is ${updated.shared ? "shared" : "private"} now.` });
    } catch (e) {
      setPhase({ state: "error", text: `Not changed: ${errorText(e)}` });
    } finally {
      setSharing(null);
    }
  };
  const remove = async (v: SavedView): Promise<void> => {
    setRemoving(v.id);
    try {
      await api.deleteView(v.id);
      setPhase({ state: "done", text: `Deleted “${v.name}”.` });
      reload();
    } catch (e) {
      setPhase({ state: "error", text: `Not deleted: ${errorText(e)}` });
    } finally {
      setRemoving(null);
    }
  };

  return (
    <div className="hist-controls" style={{ paddingTop: 0 }} data-testid="history-saved-views">
      <button
        className="btn sm"
        disabled={refused !== null || phase.state === "pending"}
        title={refused ? `Saving views ${refused}` : "save this view (range, series, mode, markers) under a name"}
        onClick={() => {
          setForm(form ? null : { name: "", shared: true });
          setPhase({ state: "idle" });
        }}
        data-testid="history-save-view"
      >
        Save view
      </button>
      {form && (
        <form
          className="hist-controls"
          style={{ padding: 0 }}
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <input
            autoFocus
            placeholder="name of the view"
            maxLength={MAX_VIEW_NAME}
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
            data-testid="history-view-name"
          />
          <label className="faint">
            <input
              type="checkbox"
              checked={form.shared}
              onChange={(e) => setForm({ ...form, shared: e.target.checked })}
              data-testid="history-view-shared"
            />{" "}
            shared with everyone
          </label>
          <button
            className="btn sm"
            type="submit"
            disabled={phase.state === "pending"}
            data-testid="history-view-submit"
          >
            {phase.state === "pending" ? "Saving…" : "Save"}
          </button>
        </form>
      )}
      <CopyLink hash={hash} />
      {(phase.state === "done" || phase.state === "error" || phase.state === "pending") && (
        <span
          className={phase.state === "error" ? "error-text" : "faint"}
          data-testid="history-view-state"
          data-state={phase.state}
        >
          {phase.state === "pending" ? "Saving…" : phase.text}
        </span>
      )}
      {refused && <span className="faint">Saving views {refused}.</span>}
      <details data-testid="history-view-list" data-count={views?.length ?? 0}>
        <summary className="faint">Saved views ({views === null ? "…" : views.length})</summary>
        {error && <div className="error-text">Could not load the saved views: {error}</div>}
        <ul className="marker-list">
          {(views ?? []).map((v) => (
            <li key={v.id} data-testid={`history-view-${v.id}`}>
              <a href={v.hash} data-testid="history-view-open">
                {v.name}
              </a>{" "}
              <span className="faint">
                {v.owner === me?.name ? "mine" : `by ${v.owner}`}
                {v.shared ? " · shared" : " · private"}
              </span>{" "}
              {mayChange(me, v) && rename?.id !== v.id && (
                <button
                  className="btn sm"
                  disabled={rename?.state === "pending"}
                  onClick={() => {
                    setRename((r) => renameStep(r, { type: "open", view: v }));
                    setPhase({ state: "idle" });
                  }}
                  data-testid="history-view-rename"
                >
                  Rename
                </button>
              )}{" "}
              {rename?.id === v.id && <RenameForm rename={rename} onStep={setRename} onSubmit={submitRename} />}
              {mayChange(me, v) && rename?.id !== v.id && (
                <button
                  className="btn sm"
                  disabled={sharing === v.id}
                  onClick={() => void toggleShared(v)}
                  data-testid="history-view-share"
                  data-shared={v.shared}
                >
                  {sharing === v.id ? "Changing…" : v.shared ? "Make private" : "Share"}
                </button>
              )}{" "}
              {mayChange(me, v) && rename?.id !== v.id && (
                <button
                  className="btn sm"
                  disabled={removing === v.id}
                  onClick={() => void remove(v)}
                  data-testid="history-view-delete"
                >
                  {removing === v.id ? "Deleting…" : "Delete"}
                </button>
              )}
            </li>
          ))}
          {views !== null && views.length === 0 && <li className="faint">none yet</li>}
        </ul>
      </details>
    </div>
  );
}
