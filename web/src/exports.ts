// Downloads of the dashboard's tables: the query of the export route that holds what a table shows.

const DAY_MS = 24 * 3600 * 1000;

/** The query of GET /exports/alarms for the Overview's alarm table: its filter (active only: the two active
 * states) over a range that holds every alarm it shows, from the oldest one's raise (at least the last 24 h). The
 * file may hold more than the table, which shows at most 100 of the alarms the dashboard knows. */
export function alarmExportQuery(
  activeOnly: boolean,
  shown: readonly { raised_at: string }[],
  now: Date,
  format: "csv" | "parquet" | "json" = "csv",
): URLSearchParams {
  let from = now.getTime() - DAY_MS;
  for (const a of shown) {
    const t = Date.parse(a.raised_at);
    if (Number.isFinite(t) && t < from) from = t;
  }
  const q = new URLSearchParams();
  if (activeOnly) for (const s of ["active_unack", "active_ack"]) q.append("state", s);
  q.set("from", new Date(from).toISOString());
  q.set("format", format);
  return q;
}

/** The query of GET /exports/events for a machine panel's event log: every event of the machine (production
 * reports too) of the last 24 h, the panel's list being its newest 15. */
export function machineEventsExportQuery(
  machineId: string,
  now: Date,
  format: "csv" | "parquet" | "json" = "csv",
): URLSearchParams {
  return new URLSearchParams({ machine_id: machineId, from: new Date(now.getTime() - DAY_MS).toISOString(), format });
}

/** The query of GET /exports/history for the History view's chart of one machine: the raw readings of the sensors
 * it shows (none picked: every sensor of the machine) over the chart's range. Other machines' series are not in it
 * (one file per machine, as the route exports). */
export function historyExportQuery(
  machineId: string,
  sensors: readonly string[],
  from: Date,
  to: Date,
  format: "csv" | "parquet" | "json" = "csv",
): URLSearchParams {
  const q = new URLSearchParams({ machine_id: machineId });
  for (const s of sensors) q.append("sensor", s);
  q.set("from", from.toISOString());
  q.set("to", to.toISOString());
  q.set("format", format);
  return q;
}
