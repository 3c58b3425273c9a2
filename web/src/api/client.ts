// The typed client of the factorytwin REST API (docs/API.md). Each method names its route as a path of the
// generated schema (schema.ts, `make contract`), which fixes the type of its answer and of the body it posts: a
// route that changes on the server breaks the compile here. Every call resolves to that data or rejects with an
// ApiError carrying the HTTP status and the server's message, never an untyped failure.

import type {
  Alarm,
  Catalogue,
  CommandRequest,
  CommandResult,
  FactoryLayout,
  Health,
  HistorySeries,
  MachineEvent,
  MachineView,
  MaintenancePlan,
  Prediction,
  BodyOf,
  JsonOf,
} from "./types";
import type { paths } from "./schema";

/** What the dashboard sends with a command (it always names itself as the issuer). */
export type CommandInput = Omit<CommandRequest, "issued_by">;

export const API_BASE = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** The server's error detail as one readable line: FastAPI's `{detail: str | [{loc, msg}]}`. */
export function errorMessage(body: unknown, fallback: string): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d) => {
          if (d && typeof d === "object") {
            const loc = Array.isArray((d as { loc?: unknown }).loc) ? (d as { loc: unknown[] }).loc.join(".") : "";
            const msg = String((d as { msg?: unknown }).msg ?? "");
            return loc ? `${loc}: ${msg}` : msg;
          }
          return String(d);
        })
        .join("; ");
    }
  }
  return fallback;
}

export class ApiClient {
  constructor(
    private readonly fetchFn: FetchFn = (input, init) => fetch(input, init),
    private readonly base: string = API_BASE,
  ) {}

  /** GET the route `template` of the generated schema (which fixes the answer's type), its `{names}` filled from
   * `params`, with an optional query. */
  private get<P extends keyof paths>(
    template: P,
    params: Record<string, string | number> = {},
    query?: URLSearchParams,
  ): Promise<JsonOf<P, "get">> {
    const qs = query?.toString();
    return this.request(fill(template, params) + (qs ? `?${qs}` : ""));
  }

  /** POST `body` (typed by the schema) to the route `template`, its `{names}` filled from `params`. */
  private post<P extends keyof paths>(
    template: P,
    params: Record<string, string | number>,
    body: BodyOf<P>,
  ): Promise<JsonOf<P, "post">> {
    return this.request(fill(template, params), { method: "POST", body: JSON.stringify(body) });
  }

  private async request<T>(fullPath: string, init?: RequestInit): Promise<T> {
    // the schema's paths start with the API's own prefix; the client may be pointed at another base
    const path = fullPath.startsWith(API_BASE) ? fullPath.slice(API_BASE.length) : fullPath;
    const res = await this.fetchFn(this.base + path, {
      ...init,
      headers: { Accept: "application/json", ...(init?.body ? { "Content-Type": "application/json" } : {}) },
    });
    const text = await res.text();
    let body: unknown = null;
    let parsed = true;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        parsed = false; // a proxy's HTML error page, say: reported below with the status
        body = text;
      }
    }
    if (!res.ok) throw new ApiError(res.status, errorMessage(body, `${res.status} ${res.statusText}`), path);
    if (!parsed) throw new ApiError(res.status, `the answer to ${path} is not JSON`, path);
    return body as T;
  }

  health(): Promise<Health> {
    return this.get("/api/v1/health");
  }

  catalogue(): Promise<Catalogue> {
    return this.get("/api/v1/catalogue");
  }

  layout(): Promise<FactoryLayout> {
    return this.get("/api/v1/layout");
  }

  /** Every machine of the layout with its live state (`state` null while the twin is not running). */
  machines(): Promise<MachineView[]> {
    return this.get("/api/v1/machines");
  }

  events(machineId: string, limit = 30): Promise<MachineEvent[]> {
    return this.get(
      "/api/v1/machines/{machine_id}/events",
      { machine_id: machineId },
      new URLSearchParams({ limit: String(limit) }),
    );
  }

  /** Bucketed history (min/max/avg/count per bucket) of one sensor between two instants. */
  history(machineId: string, sensor: string, from: Date, to: Date, points: number): Promise<HistorySeries> {
    const q = new URLSearchParams({
      sensor,
      from: from.toISOString(),
      to: to.toISOString(),
      points: String(Math.max(2, Math.round(points))),
    });
    return this.get("/api/v1/machines/{machine_id}/history", { machine_id: machineId }, q);
  }

  /** Send a command; the result says whether it reached the machine's channel (`delivered`) and why not. */
  command(machineId: string, cmd: CommandInput): Promise<CommandResult> {
    const body: CommandRequest = { ...cmd, issued_by: "dashboard" };
    return this.post("/api/v1/machines/{machine_id}/commands", { machine_id: machineId }, body);
  }

  alarms(params: { state?: string; machine_id?: string; severity?: string } = {}): Promise<Alarm[]> {
    const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v) as [string, string][]);
    return this.get("/api/v1/alarms", {}, q);
  }

  ackAlarm(id: number, by = "dashboard"): Promise<Alarm> {
    return this.post("/api/v1/alarms/{alarm_id}/ack", { alarm_id: id }, { by });
  }

  /** The machine's failure prediction; `status` says "no_model" (HTTP 200) until a model is trained. */
  prediction(machineId: string): Promise<Prediction> {
    return this.get("/api/v1/machines/{machine_id}/prediction", { machine_id: machineId });
  }

  /** The maintenance plan and its cost against other policies; `status` "no_model" until a model exists. */
  schedule(): Promise<MaintenancePlan> {
    return this.get("/api/v1/maintenance/schedule");
  }
}

/** True when the server's /health says the ML service runs (so prediction routes exist). */
export function mlEnabled(health: Health | null): boolean {
  return health !== null && "ml" in health.sections;
}

/** `template` with each `{name}` replaced by the encoded `params[name]`. */
export function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
    return encodeURIComponent(String(value));
  });
}

export const api = new ApiClient();
