// Hash routes: #/floor, #/floor/<machine>, #/overview, #/history/<machine>, #/audit (admins), #/whatif, #/profiles, #/connectors,
// the KPI drill-down #/kpis, #/kpis/line/<line>, #/kpis/machine/<machine>, and work orders #/workorders,
// #/workorders/<id>. Hash routing needs no server support, so the FastAPI static
// mount can serve the single page as it is.

import { kpiHash, parseKpiPath, type KpiPath } from "./kpis";

export type View =
  "floor" | "overview" | "history" | "audit" | "kpis" | "whatif" | "workorders" | "profiles" | "connectors";

export interface Route {
  view: View;
  machine: string | null;
  /** The KPI view's drill-down (only with view "kpis"; its machine is also `machine`). */
  kpi?: KpiPath;
  /** The work order open in the work-order view (only with view "workorders"). */
  order?: number;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
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
    return { view, machine: kpi.scope === "machine" ? kpi.id : null, kpi };
  }
  if (view === "workorders") {
    const id = Number(parts[1]);
    return Number.isSafeInteger(id) && id > 0 ? { view, machine: null, order: id } : { view, machine: null };
  }
  return { view, machine: parts[1] ?? null };
}

export function routeHash(route: Route): string {
  if (route.view === "kpis")
    return kpiHash(route.kpi ?? (route.machine ? { scope: "machine", id: route.machine } : { scope: "plant" }));
  if (route.view === "workorders") return `#/workorders${route.order ? `/${route.order}` : ""}`;
  return `#/${route.view}${route.machine ? `/${encodeURIComponent(route.machine)}` : ""}`;
}
