// The History view's saved views: "Save view" (a name, shared or not; operator role), the list of the views the
// user may open (their own and the shared ones), and "Copy link". Nothing is said to have happened before the server
// (or the clipboard) answered: a save shows "Saving…", then "Saved" or the server's own error.

import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import type { SavedView } from "../api/types";
import { errorText } from "../hooks/usePolling";
import { checkName, mayDelete, MAX_VIEW_NAME, viewLink } from "../savedViews";
import { refusal, useSession } from "../session";

type Phase =
  { state: "idle" } | { state: "pending" } | { state: "done"; text: string } | { state: "error"; text: string };

function useSavedViews(): { views: SavedView[] | null; error: string | null; reload: () => void } {
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
  return { views, error, reload };
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

export function SavedViews({ hash }: { hash: string }) {
  const me = useSession();
  const refused = refusal(me, "operator");
  const { views, error, reload } = useSavedViews();
  const [form, setForm] = useState<{ name: string; shared: boolean } | null>(null);
  const [phase, setPhase] = useState<Phase>({ state: "idle" });
  const [removing, setRemoving] = useState<number | null>(null);

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
              {mayDelete(me, v) && (
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
