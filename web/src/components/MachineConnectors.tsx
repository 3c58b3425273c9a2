import type { ConnectorView } from "../api/types";
import { api } from "../api/client";
import { useNow } from "../hooks/useNow";
import { usePolling } from "../hooks/usePolling";

/** How long without a stored value before a connected connector is shown as stale. */
const STALE_MS = 30_000;

function stateText(c: ConnectorView, now: number): { text: string; warn: boolean } {
  const s = c.status;
  if (!s) return { text: c.problem ? `not running: ${c.problem}` : "not running", warn: true };
  if (s.state === "connected") {
    const last = s.last_value_at ? Date.parse(s.last_value_at) : null;
    if (last === null || now - last > STALE_MS) return { text: "connected, stale", warn: true };
    return { text: "connected", warn: false };
  }
  if (s.state === "reconnecting") return { text: "reconnecting", warn: true };
  return { text: s.state, warn: s.state !== "stopped" || c.enabled };
}

/** The connectors that feed a machine and their state (nothing when none does). */
export function MachineConnectors({ machineId }: { machineId: string }) {
  const { data, error } = usePolling(machineId, () => api.machineConnectors(machineId), 5_000, "connectors");
  const now = useNow();
  if (!data?.length && !error) return null;
  return (
    <div className="section" data-testid="machine-connectors">
      <h3>Connectors</h3>
      {error && !data && <div className="faint warn-text">could not load the connectors: {error}</div>}
      {data?.map((c) => {
        const { text, warn } = stateText(c, now);
        return (
          <div key={c.config.id} data-testid="machine-connector" data-state={c.status?.state ?? "unknown"}>
            <span className="num">{c.config.id}</span> <span className="muted">({c.config.kind})</span>{" "}
            <span className={warn ? "warn-text" : undefined}>{text}</span>
            {c.status?.last_error && c.status.state !== "connected" && (
              <div className="faint">{c.status.last_error}</div>
            )}
          </div>
        );
      })}
    </div>
  );
}
