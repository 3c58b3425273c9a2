// A small typed client for the factorytwin REST API (docs/API.md). Every call resolves to typed data or
// rejects with an ApiError carrying the HTTP status and the server's message, never an untyped failure.

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
} from "./types";

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

  private async request<T>(path: string, init?: RequestInit): Promise<T> {
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
    return this.request("/health");
  }

  catalogue(): Promise<Catalogue> {
    return this.request("/catalogue");
  }

  layout(): Promise<FactoryLayout> {
    return this.request("/layout");
  }

  /** Every machine of the layout with its live state (`state` null while the twin is not running). */
  machines(): Promise<MachineView[]> {
    return this.request("/machines");
  }

  events(machineId: string, limit = 30): Promise<MachineEvent[]> {
    return this.request(`/machines/${enc(machineId)}/events?limit=${limit}`);
  }

  /** Bucketed history (min/max/avg/count per bucket) of one sensor between two instants. */
  history(machineId: string, sensor: string, from: Date, to: Date, points: number): Promise<HistorySeries> {
    const q = new URLSearchParams({
      sensor,
      from: from.toISOString(),
      to: to.toISOString(),
      points: String(Math.max(2, Math.round(points))),
    });
    return this.request(`/machines/${enc(machineId)}/history?${q.toString()}`);
  }

  /** Send a command; the result says whether it reached the machine's channel (`delivered`) and why not. */
  command(machineId: string, cmd: CommandInput): Promise<CommandResult> {
    const body: CommandRequest = { ...cmd, issued_by: "dashboard" };
    return this.request(`/machines/${enc(machineId)}/commands`, { method: "POST", body: JSON.stringify(body) });
  }

  alarms(params: { state?: string; machine_id?: string; severity?: string } = {}): Promise<Alarm[]> {
    const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v) as [string, string][]);
    const qs = q.toString();
    return this.request(`/alarms${qs ? `?${qs}` : ""}`);
  }

  ackAlarm(id: number, by = "dashboard"): Promise<Alarm> {
    return this.request(`/alarms/${id}/ack`, { method: "POST", body: JSON.stringify({ by }) });
  }

  /** The machine's failure prediction; `status` says "no_model" (HTTP 200) until a model is trained. */
  prediction(machineId: string): Promise<Prediction> {
    return this.request(`/machines/${enc(machineId)}/prediction`);
  }

  /** The maintenance plan and its cost against other policies; `status` "no_model" until a model exists. */
  schedule(): Promise<MaintenancePlan> {
    return this.request("/maintenance/schedule");
  }
}

/** True when the server's /health says the ML service runs (so prediction routes exist). */
export function mlEnabled(health: Health | null): boolean {
  return health !== null && "ml" in health.sections;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

export const api = new ApiClient();
