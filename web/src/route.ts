// Hash routes: #/floor, #/floor/<machine>, #/overview, #/history/<machine>?<view state> (historyState.ts),
// #/audit (admins), #/whatif, #/profiles, #/connectors, the KPI drill-down #/kpis, #/kpis/line/<line>,
// #/kpis/machine/<machine> (each with ?range=…&group=…, kpis.ts), and work orders #/workorders, #/workorders/<id>. Hash routing needs no server
// support, so the FastAPI static mount can serve the single page as it is.

import { formatHistoryQuery, parseHistoryQuery, type HistoryState } from "./historyState";
import { kpiHash, parseKpiPath, parseKpiQuery, type KpiPath, type KpiViewState } from "./kpis";

export type View =
  "floor" | "overview" | "history" | "audit" | "kpis" | "whatif" | "workorders" | "profiles" | "connectors";

export interface Route {
  view: View;
  machine: string | null;
  /** The KPI view's drill-down (only with view "kpis"; its machine is also `machine`). */
  kpi?: KpiPath;
  /** The KPI view's range and grouping (only with view "kpis", and only when the hash has a query: absent means
   * the defaults), as `history` is the History view's. */
  kpiState?: KpiViewState;
  /** The work order open in the work-order view (only with view "workorders"). */
  order?: number;
  /** The History view's range, sensors, extra series, chart mode and marker toggles (only with view "history",
   * and only when the hash has a query: absent means the defaults). */
  history?: HistoryState;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray "%" in a hand-typed link: the text as it is
  }
}

export function parseRoute(hash: string): Route {
  const bare = hash.replace(/^#\/?/, "");
  const q = bare.indexOf("?");
  const path = q >= 0 ? bare.slice(0, q) : bare;
  const query = q >= 0 ? bare.slice(q + 1) : "";
  const parts = path.split("/").filter(Boolean).map(decode);
  const known: readonly string[] = [
    "floor",
    "overview",
    "history",
    "audit",
    "kpis",
    "whatif",
    "workorders",
    "profiles",
    "connectors",
  ];
  const view = (parts[0] !== undefined && known.includes(parts[0]) ? parts[0] : "floor") as View;
  if (view === "kpis") {
    const kpi = parseKpiPath(parts.slice(1));
    const machine = kpi.scope === "machine" ? kpi.id : null;
    return query ? { view, machine, kpi, kpiState: parseKpiQuery(query) } : { view, machine, kpi };
  }
  if (view === "workorders") {
    const id = Number(parts[1]);
    return Number.isSafeInteger(id) && id > 0 ? { view, machine: null, order: id } : { view, machine: null };
  }
  if (view === "history" && query) return { view, machine: parts[1] ?? null, history: parseHistoryQuery(query) };
  return { view, machine: parts[1] ?? null };
}

export function routeHash(route: Route): string {
  if (route.view === "kpis")
    return kpiHash(
      route.kpi ?? (route.machine ? { scope: "machine", id: route.machine } : { scope: "plant" }),
      route.kpiState,
    );
  if (route.view === "workorders") return `#/workorders${route.order ? `/${route.order}` : ""}`;
  const query = route.view === "history" && route.history ? formatHistoryQuery(route.history) : "";
  return `#/${route.view}${route.machine ? `/${encodeURIComponent(route.machine)}` : ""}${query}`;
}
