// The what-if jobs the server remembers (GET /scenarios): open one again (after a reload, or another user's).

import { useEffect, useState } from "react";
import { api } from "../../api/client";
import type { ScenarioSummary } from "../../api/types";
import { formatClock } from "../../format";
import { errorText } from "../../hooks/usePolling";
import { stateLabel } from "../../whatif";

interface Props {
  current: string | null;
  /** The open job's state: the list is read again when it changes, so it never shows a finished job as running. */
  currentState: string | null;
  onOpen: (id: string) => void;
}

export function EarlierJobs({ current, currentState, onOpen }: Props) {
  const [jobs, setJobs] = useState<ScenarioSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.scenarios().then(setJobs, (e: unknown) => setError(errorText(e)));
  }, [current, currentState]);
  if (error) return <div className="faint whatif-note">Earlier jobs could not be listed: {error}</div>;
  if (!jobs || jobs.length === 0) return null;
  return (
    <label className="faint whatif-earlier">
      earlier jobs{" "}
      <select
        value={current ?? ""}
        onChange={(e) => e.target.value && onOpen(e.target.value)}
        data-testid="whatif-earlier"
      >
        <option value="">—</option>
        {[...jobs].reverse().map((j) => (
          <option key={j.id} value={j.id}>
            {formatClock(Date.parse(j.created_at))} · {j.names.join(" / ")} · {stateLabel(j)}
          </option>
        ))}
      </select>
    </label>
  );
}
