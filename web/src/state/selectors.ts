// Derived views of the live twin: fleet KPIs, sorted alarms. Pure functions of the state slices.

import type { AlarmSeverity, Machine, MachineState, MachineStatus, StoredAlarm } from "../api/types";
import { isActive } from "./reducer";

export const SEVERITIES: AlarmSeverity[] = ["critical", "major", "minor", "warning"];
export const STATUSES: MachineStatus[] = ["running", "idle", "stopped", "maintenance", "failed", "offline"];

export interface FleetKpis {
  total: number;
  byStatus: Record<MachineStatus, number>;
  /** Share of machines able to produce now (running or idle), 0..1; null with no machines. */
  availability: number | null;
  /** Mean health of machines that report one, 0..100. */
  meanHealth: number | null;
  activeAlarms: number;
  unacknowledged: number;
  alarmsBySeverity: Record<AlarmSeverity, number>;
}

/** KPIs over the layout's machines; a machine the twin has not heard from yet counts as offline. */
export function fleetKpis(
  machines: Machine[],
  states: Record<string, MachineState>,
  alarms: Record<number, StoredAlarm>,
): FleetKpis {
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<MachineStatus, number>;
  let healthSum = 0;
  let healthN = 0;
  for (const m of machines) {
    const st = states[m.id];
    const status: MachineStatus = st?.status ?? "offline";
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (st && typeof st.health === "number") {
      healthSum += st.health;
      healthN += 1;
    }
  }
  const alarmsBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<AlarmSeverity, number>;
  let active = 0;
  let unack = 0;
  for (const a of Object.values(alarms)) {
    if (!isActive(a)) continue;
    active += 1;
    if (a.state === "active_unack") unack += 1;
    alarmsBySeverity[a.severity] = (alarmsBySeverity[a.severity] ?? 0) + 1;
  }
  const total = machines.length;
  return {
    total,
    byStatus,
    availability: total === 0 ? null : (byStatus.running + byStatus.idle) / total,
    meanHealth: healthN === 0 ? null : healthSum / healthN,
    activeAlarms: active,
    unacknowledged: unack,
    alarmsBySeverity,
  };
}

const SEVERITY_RANK: Record<AlarmSeverity, number> = { critical: 0, major: 1, minor: 2, warning: 3 };

/** Alarms to show: active ones first (unacknowledged first, then by severity, newest first), then cleared. */
export function sortedAlarms(
  alarms: Record<number, StoredAlarm>,
  opts: { machineId?: string; activeOnly?: boolean } = {},
): StoredAlarm[] {
  return Object.values(alarms)
    .filter((a) => (opts.machineId ? a.machine_id === opts.machineId : true))
    .filter((a) => (opts.activeOnly ? isActive(a) : true))
    .sort((a, b) => {
      const act = Number(isActive(b)) - Number(isActive(a));
      if (act !== 0) return act;
      const unack = Number(b.state.endsWith("unack")) - Number(a.state.endsWith("unack"));
      if (unack !== 0) return unack;
      const sev = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
      if (sev !== 0) return sev;
      return Date.parse(b.raised_at) - Date.parse(a.raised_at);
    });
}

/** The most severe active alarm of each machine (for the 3D floor's indicators). */
export function worstAlarmByMachine(alarms: Record<number, StoredAlarm>): Record<string, AlarmSeverity> {
  const out: Record<string, AlarmSeverity> = {};
  for (const a of Object.values(alarms)) {
    if (!isActive(a)) continue;
    const cur = out[a.machine_id];
    if (cur === undefined || SEVERITY_RANK[a.severity] < SEVERITY_RANK[cur]) out[a.machine_id] = a.severity;
  }
  return out;
}
