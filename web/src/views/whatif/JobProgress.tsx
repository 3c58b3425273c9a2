// A job's state as the stream tells it (or as the last GET said, before the first stream message).

import type { ScenarioProgress } from "../../api/types";
import { stateLabel } from "../../whatif";

export function JobProgress({ progress, onCancel }: { progress: ScenarioProgress; onCancel: (() => void) | null }) {
  const { state } = progress;
  const pct = Math.round(progress.progress * 100);
  return (
    <div className={`card whatif-job whatif-${state}`} data-testid="whatif-job" data-state={state}>
      <div className="whatif-job-h">
        <b data-testid="whatif-state">{stateLabel(progress)}</b>
        <span className="faint">{progress.names.join(" · ")}</span>
        {onCancel && (
          <button className="btn" onClick={onCancel} data-testid="whatif-cancel">
            Cancel
          </button>
        )}
      </div>
      {(state === "queued" || state === "running") && (
        <div className="whatif-bar" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
          <div style={{ width: `${pct}%` }} className={state === "queued" ? "pending" : undefined} />
        </div>
      )}
      {progress.message && (
        <div className={state === "failed" ? "whatif-error" : "faint"} data-testid="whatif-message">
          {state === "failed" ? `The job failed: ${progress.message}. No results.` : progress.message}
        </div>
      )}
    </div>
  );
}
