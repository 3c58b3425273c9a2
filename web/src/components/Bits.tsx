// Small shared presentational pieces: status pill, severity tag, health bar.

import type { AlarmSeverity, MachineStatus } from "../api/types";
import { healthColor, SEVERITY_COLOR, STATUS_COLOR } from "../format";

export function StatusBadge({ status }: { status: MachineStatus | undefined }) {
  const s = status ?? "offline";
  return (
    <span className="badge" style={{ color: STATUS_COLOR[s] }} data-testid="status-badge" data-status={s}>
      <span className="dot" style={{ background: STATUS_COLOR[s] }} />
      {s}
    </span>
  );
}

export function SeverityTag({ severity }: { severity: AlarmSeverity }) {
  return (
    <span className="sev" style={{ color: SEVERITY_COLOR[severity] }}>
      <span className="dot" style={{ background: SEVERITY_COLOR[severity] }} />
      {severity}
    </span>
  );
}

export function HealthBar({ health }: { health: number | null | undefined }) {
  const h = typeof health === "number" ? Math.max(0, Math.min(100, health)) : null;
  return (
    <div className="health">
      <div className="health-bar">
        <div style={{ width: `${h ?? 0}%`, background: healthColor(h) }} />
      </div>
      <span className="num" style={{ color: healthColor(h), minWidth: 42, textAlign: "right" }}>
        {h === null ? "—" : `${Math.round(h)}%`}
      </span>
    </div>
  );
}
