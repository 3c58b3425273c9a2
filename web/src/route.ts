// Hash routes: #/floor, #/floor/<machine>, #/overview, #/history/<machine>, #/audit (admins). Hash routing needs no server
// support, so the FastAPI static mount can serve the single page as it is.

export type View = "floor" | "overview" | "history" | "audit";

export interface Route {
  view: View;
  machine: string | null;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const known: readonly string[] = ["floor", "overview", "history", "audit"];
  const view = (parts[0] !== undefined && known.includes(parts[0]) ? parts[0] : "floor") as View;
  return { view, machine: parts[1] ?? null };
}

export function routeHash(route: Route): string {
  return `#/${route.view}${route.machine ? `/${encodeURIComponent(route.machine)}` : ""}`;
}
