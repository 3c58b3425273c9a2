// Hash routes: #/floor, #/floor/<machine>, #/overview, #/history/<machine>. Hash routing needs no server
// support, so the FastAPI static mount can serve the single page as it is.

export type View = "floor" | "overview" | "history";

export interface Route {
  view: View;
  machine: string | null;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const view: View = parts[0] === "overview" || parts[0] === "history" || parts[0] === "floor" ? parts[0] : "floor";
  return { view, machine: parts[1] ?? null };
}

export function routeHash(route: Route): string {
  return `#/${route.view}${route.machine ? `/${encodeURIComponent(route.machine)}` : ""}`;
}
