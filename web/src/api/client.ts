// A small typed client for the factorytwin REST API (docs/API.md). Every call resolves to typed data or
// rejects with an ApiError carrying the HTTP status and the server's message, never an untyped failure.

import type {
  Alarm,
  Catalogue,
  CommandRequest,
  FactoryLayout,
  HistoryBucket,
  HistorySeries,
  MachineEvent,
  MachineState,
  MaintenancePlan,
  Prediction,
} from "./types";

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
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok) throw new ApiError(res.status, errorMessage(body, `${res.status} ${res.statusText}`), path);
    return body as T;
  }

  health(): Promise<Record<string, unknown>> {
    return this.request("/health");
  }

  catalogue(): Promise<Catalogue> {
    return this.request("/catalogue");
  }

  layout(): Promise<FactoryLayout> {
    return this.request("/layout");
  }

  async machines(): Promise<MachineState[]> {
    const body = await this.request<unknown>("/machines");
    const list = Array.isArray(body) ? body : pickArray(body, ["machines", "items"]);
    return list.map(normaliseMachineState).filter((m): m is MachineState => m !== null);
  }

  async events(machineId: string, limit = 30): Promise<MachineEvent[]> {
    const body = await this.request<unknown>(`/machines/${enc(machineId)}/events?limit=${limit}`);
    return (Array.isArray(body) ? body : pickArray(body, ["events", "items"])) as MachineEvent[];
  }

  /** Bucketed history (min/max/avg/count per bucket) of one sensor between two instants. */
  async history(machineId: string, sensor: string, from: Date, to: Date, points: number): Promise<HistorySeries> {
    const q = new URLSearchParams({
      sensor,
      from: from.toISOString(),
      to: to.toISOString(),
      points: String(Math.max(2, Math.round(points))),
    });
    const body = await this.request<unknown>(`/machines/${enc(machineId)}/history?${q.toString()}`);
    return normaliseHistory(body, machineId, sensor, from, to);
  }

  command(machineId: string, cmd: CommandRequest): Promise<unknown> {
    return this.request(`/machines/${enc(machineId)}/commands`, {
      method: "POST",
      body: JSON.stringify({ issued_by: "dashboard", ...cmd }),
    });
  }

  async alarms(params: { state?: string; machine_id?: string; severity?: string } = {}): Promise<Alarm[]> {
    const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v) as [string, string][]);
    const qs = q.toString();
    const body = await this.request<unknown>(`/alarms${qs ? `?${qs}` : ""}`);
    return (Array.isArray(body) ? body : pickArray(body, ["alarms", "items"])) as Alarm[];
  }

  async ackAlarm(id: number, by = "dashboard"): Promise<Alarm | null> {
    const body = await this.request<unknown>(`/alarms/${id}/ack`, { method: "POST", body: JSON.stringify({ by }) });
    return isAlarm(body)
      ? body
      : body && typeof body === "object" && isAlarm((body as { alarm?: unknown }).alarm)
        ? (body as { alarm: Alarm }).alarm
        : null;
  }

  /** The machine's failure prediction; `status` says "no_model" (HTTP 200) until a model is trained. */
  async prediction(machineId: string): Promise<Prediction> {
    const body = await this.request<Prediction>(`/machines/${enc(machineId)}/prediction`);
    return { ...body, machine_id: body.machine_id ?? machineId };
  }

  /** The maintenance plan and its cost against other policies; `status` "no_model" until a model exists. */
  async schedule(): Promise<MaintenancePlan> {
    const body = await this.request<Partial<MaintenancePlan>>("/maintenance/schedule");
    return {
      status: body.status ?? "ok",
      generated_at: body.generated_at ?? "",
      horizon_h: body.horizon_h ?? 0,
      ...body,
      tasks: body.tasks ?? [],
      policies: body.policies ?? [],
    };
  }
}

/** True when the server's /health says the ML service runs (so prediction routes exist). */
export function mlEnabled(health: unknown): boolean {
  const sections = health && typeof health === "object" ? (health as { sections?: unknown }).sections : null;
  return !!sections && typeof sections === "object" && "ml" in sections;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function pickArray(body: unknown, keys: string[]): unknown[] {
  if (body && typeof body === "object") {
    for (const k of keys) {
      const v = (body as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v;
    }
  }
  return [];
}

function isAlarm(v: unknown): v is Alarm {
  return !!v && typeof v === "object" && "id" in v && "machine_id" in v && "state" in v;
}

/** GET /machines items may be MachineState or machine metadata with a nested `state`. */
export function normaliseMachineState(item: unknown): MachineState | null {
  if (!item || typeof item !== "object") return null;
  const o = item as Record<string, unknown>;
  const nested = o.state && typeof o.state === "object" ? (o.state as Record<string, unknown>) : null;
  const src = nested ?? o;
  const id = (src.machine_id ?? o.machine_id ?? o.id) as unknown;
  if (typeof id !== "string") return null;
  return {
    machine_id: id,
    status: (src.status as MachineState["status"]) ?? "offline",
    health: typeof src.health === "number" ? src.health : null,
    last_seen: (src.last_seen as string | null) ?? null,
    values: (src.values as Record<string, number>) ?? (o.values as Record<string, number>) ?? {},
    values_ts: (src.values_ts as string | null) ?? null,
  };
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** History answers as `{buckets|points: [{ts|t|bucket, min, max, avg|mean, count}]}` or a bare array. */
export function normaliseHistory(
  body: unknown,
  machineId: string,
  sensor: string,
  from: Date,
  to: Date,
): HistorySeries {
  const raw = Array.isArray(body) ? body : pickArray(body, ["buckets", "points", "items", "data"]);
  const buckets: HistoryBucket[] = [];
  for (const r of raw) {
    if (!r || typeof r !== "object") continue;
    const o = r as Record<string, unknown>;
    const ts = (o.ts ?? o.t ?? o.bucket ?? o.start ?? o.time) as unknown;
    const avg = num(o.avg ?? o.mean ?? o.value);
    if (typeof ts !== "string" || avg === null) continue;
    buckets.push({ ts, avg, min: num(o.min) ?? avg, max: num(o.max) ?? avg, count: num(o.count) ?? 1 });
  }
  buckets.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  return { machine_id: machineId, sensor, start: from.toISOString(), end: to.toISOString(), buckets };
}

export const api = new ApiClient();
