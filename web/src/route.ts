// Hash routes: #/floor, #/profiles, #/floor/<machine>, #/overview, #/history/<machine>, #/audit (admins), and the KPI drill-down
// #/kpis, #/kpis/line/<line>, #/kpis/machine/<machine>. Hash routing needs no server support, so the FastAPI static
// mount can serve the single page as it is.

import { kpiHash, parseKpiPath, type KpiPath } from "./kpis";

export type View = "floor" | "overview" | "history" | "audit" | "kpis" | "profiles";

export interface Route {
  view: View;
  machine: string | null;
  /** The KPI view's drill-down (only with view "kpis"; its machine is also `machine`). */
  kpi?: KpiPath;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const known: readonly string[] = ["floor", "overview", "history", "audit", "kpis", "profiles"];
  const view = (parts[0] !== undefined && known.includes(parts[0]) ? parts[0] : "floor") as View;
  if (view === "kpis") {
    const kpi = parseKpiPath(parts.slice(1));
    return { view, machine: kpi.scope === "machine" ? kpi.id : null, kpi };
  }
  return { view, machine: parts[1] ?? null };
}

export function routeHash(route: Route): string {
  if (route.view === "kpis")
    return kpiHash(route.kpi ?? (route.machine ? { scope: "machine", id: route.machine } : { scope: "plant" }));
  return `#/${route.view}${route.machine ? `/${encodeURIComponent(route.machine)}` : ""}`;
}
