// The typed client of the factorytwin REST API (docs/API.md). Each method names its route as a path of the
// generated schema (schema.ts, `make contract`), which fixes the type of its answer and of the body it posts: a
// route that changes on the server breaks the compile here. Every call resolves to that data or rejects with an
// ApiError carrying the HTTP status and the server's message, never an untyped failure.

import type {
  Alarm,
  BrowsedNode,
  ConnectorView,
  AuditEntry,
  Catalogue,
  CommandRequest,
  CommandResult,
  FactoryLayout,
  PlantInfo,
  Health,
  HistorySeries,
  MachineEvent,
  MachineView,
  MaintenancePlan,
  Me,
  LoginResponse,
  Prediction,
  KpiReport,
  ScenarioJob,
  ScenarioRequest,
  ScenarioSummary,
  SavedView,
  SavedViewIn,
  SavedViewPatch,
  WorkOrder,
  WorkOrderCreate,
  WorkOrderTransition,
  Machine,
  ProfileBody,
  StoredProfile,
  AssetInfo,
  DtdlImport,
  BodyOf,
  JsonOf,
} from "./types";
import type { paths } from "./schema";

/** What the dashboard sends with a command (it always names itself as the issuer). */
export type CommandInput = Omit<CommandRequest, "issued_by">;

export const API_BASE = "/api/v1";

/** One problem of an error answer: where (`["body", "sensors", 2, "normal_high"]`) and what. */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
    /** The answer's problems with their field paths (empty when it named none). */
    readonly problems: FieldError[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export const CSRF_COOKIE = "ft_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

/** The session's CSRF token from its readable cookie (set by the login), or null. */
export function csrfFromCookies(cookies: string): string | null {
  for (const part of cookies.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function documentCookies(): string {
  return typeof document === "undefined" ? "" : document.cookie;
}

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
  /** Called with every 401 (no session, or it expired or was revoked): the shell shows the login form. */
  onUnauthorized: (() => void) | null = null;

  constructor(
    private readonly fetchFn: FetchFn = (input, init) => fetch(input, init),
    private readonly base: string = API_BASE,
    private readonly cookies: () => string = documentCookies,
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
    body?: BodyOf<P>,
  ): Promise<JsonOf<P, "post">> {
    const init: RequestInit = { method: "POST" };
    if (body !== undefined) init.body = JSON.stringify(body);
    return this.request(fill(template, params), init);
  }

  /** `method` `body` as JSON to the route `template` (PUT/DELETE/POST of the edit routes). */
  private send<T>(
    method: string,
    template: string,
    params: Record<string, string | number>,
    body?: unknown,
  ): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) init.body = JSON.stringify(body);
    return this.request(fill(template, params), init);
  }

  private async request<T>(fullPath: string, init?: RequestInit, contentType?: string): Promise<T> {
    // the schema's paths start with the API's own prefix; the client may be pointed at another base
    const path = fullPath.startsWith(API_BASE) ? fullPath.slice(API_BASE.length) : fullPath;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (init?.body) headers["Content-Type"] = contentType ?? "application/json";
    const csrf = csrfFromCookies(this.cookies());
    // Writes over the session cookie must carry its CSRF token (synchronizer token, docs/SECURITY.md).
    if (init?.method && init.method !== "GET" && csrf) headers[CSRF_HEADER] = csrf;
    const res = await this.fetchFn(this.base + path, { ...init, headers, credentials: "same-origin" });
    if (res.status === 401 && !path.startsWith("/auth/login")) this.onUnauthorized?.();
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
    if (!res.ok)
      throw new ApiError(res.status, errorMessage(body, `${res.status} ${res.statusText}`), path, fieldErrors(body));
    if (!parsed) throw new ApiError(res.status, `the answer to ${path} is not JSON`, path);
    return body as T;
  }

  /** Who the session (or token) belongs to; rejects with status 401 when there is no valid session. */
  me(): Promise<Me> {
    return this.get("/api/v1/auth/me");
  }

  /** Open a session: the server sets the HttpOnly session cookie and the readable CSRF cookie. */
  login(username: string, password: string): Promise<LoginResponse> {
    return this.post("/api/v1/auth/login", {}, { username, password });
  }

  /** End the session (the server deletes it, so the cookie is worthless even if replayed). */
  async logout(): Promise<void> {
    await this.request(fill("/api/v1/auth/logout", {}), { method: "POST" });
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

  /** The plant's time zone, clock compression (a simulator at 60x) and currency. */
  plant(): Promise<PlantInfo> {
    return this.get("/api/v1/plant");
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

  /** The machine's events between two instants (newest first, at most `limit`), production reports left out. */
  eventsBetween(machineId: string, from: Date, to: Date, limit = 1000): Promise<MachineEvent[]> {
    const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), limit: String(limit) });
    for (const k of ["status", "fault", "maintenance", "command", "note"]) q.append("kind", k);
    return this.get("/api/v1/machines/{machine_id}/events", { machine_id: machineId }, q);
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

  /** Acknowledge an alarm; the server records it in the logged-in user's name. */
  ackAlarm(id: number): Promise<Alarm> {
    return this.post("/api/v1/alarms/{alarm_id}/ack", { alarm_id: id });
  }

  /** The audit trail, newest first, filtered by `query` (see audit.ts); admin only (403 otherwise). */
  audit(query: URLSearchParams): Promise<AuditEntry[]> {
    return this.get("/api/v1/audit", {}, query);
  }

  /** The URL of the same entries as a CSV download (a plain GET: the session cookie authenticates it). */
  auditCsvHref(query: URLSearchParams): string {
    return `${this.base}/audit?${query.toString()}`;
  }

  /** OEE, MTBF, MTTR and downtime by cause of the plant, a line or a machine (query: see kpis.ts kpiQuery). */
  kpis(query: URLSearchParams): Promise<KpiReport> {
    return this.get("/api/v1/kpis", {}, query);
  }

  /** The URL of the same KPIs as a CSV download (a row per bucket, then per child; a plain GET with the cookie). */
  kpisCsvHref(query: URLSearchParams): string {
    const q = new URLSearchParams(query);
    q.set("format", "csv");
    return `${this.base}/exports/kpis?${q.toString()}`;
  }

  /** The URL of alarms as a file (query: exports.ts alarmExportQuery; a plain GET with the cookie). */
  alarmsExportHref(query: URLSearchParams): string {
    return `${this.base}/exports/alarms?${query.toString()}`;
  }

  /** The URL of readings as a file (query: exports.ts historyExportQuery). */
  historyExportHref(query: URLSearchParams): string {
    return `${this.base}/exports/history?${query.toString()}`;
  }

  /** The URL of events as a file (query: exports.ts machineEventsExportQuery). */
  eventsExportHref(query: URLSearchParams): string {
    return `${this.base}/exports/events?${query.toString()}`;
  }

  /** The URL of work orders as a file for a CMMS (query: workorders.ts workOrderExportQuery). */
  workOrdersExportHref(query: URLSearchParams): string {
    return `${this.base}/exports/work-orders?${query.toString()}`;
  }

  /** Work orders, newest first (query: machine_id, state (repeatable), limit). */
  workOrders(query: URLSearchParams): Promise<WorkOrder[]> {
    return this.get("/api/v1/work-orders", {}, query);
  }

  workOrder(id: number): Promise<WorkOrder> {
    return this.get("/api/v1/work-orders/{order_id}", { order_id: id });
  }

  /** Open a work order by hand or from an alarm (operator role). */
  createWorkOrder(body: WorkOrderCreate): Promise<WorkOrder> {
    return this.post("/api/v1/work-orders", {}, body);
  }

  /** Move a work order to another state (409 when the move is not allowed, or it changed meanwhile). */
  transitionWorkOrder(id: number, body: WorkOrderTransition): Promise<WorkOrder> {
    return this.post("/api/v1/work-orders/{order_id}/transition", { order_id: id }, body);
  }

  noteWorkOrder(id: number, text: string): Promise<WorkOrder> {
    return this.post("/api/v1/work-orders/{order_id}/notes", { order_id: id }, { text });
  }

  /** The saved History views the caller may open: their own and the shared ones, newest first. */
  views(): Promise<SavedView[]> {
    return this.get("/api/v1/views");
  }

  /** Save a view under the caller's name (operator role); 422 names the field of a bad name or hash. */
  saveView(body: SavedViewIn): Promise<SavedView> {
    return this.post("/api/v1/views", {}, body);
  }

  /** Rename a saved view and/or share or unshare it (its owner or an admin): the view as the server now has it;
   * 409 at `name` when the owner has another view of that name, 422 naming the field of a bad change. */
  patchView(id: number, patch: SavedViewPatch): Promise<SavedView> {
    return this.send("PATCH", "/api/v1/views/{view_id}", { view_id: id }, patch);
  }

  /** Delete a saved view (its owner or an admin). */
  async deleteView(id: number): Promise<void> {
    await this.send("DELETE", "/api/v1/views/{view_id}", { view_id: id });
  }

  /** The machine's failure prediction; `status` says "no_model" (HTTP 200) until a model is trained. */
  /** Every connector with its live status. */
  connectors(): Promise<ConnectorView[]> {
    return this.get("/api/v1/connectors");
  }

  /** Store and start a connector (Engineer role); 422 names the field of a bad configuration. */
  createConnector(config: unknown): Promise<ConnectorView> {
    return this.send("POST", "/api/v1/connectors", {}, config);
  }

  /** Replace a connector's configuration; it restarts with it (a masked secret keeps the stored one). */
  updateConnector(id: string, config: unknown): Promise<ConnectorView> {
    return this.send("PUT", "/api/v1/connectors/{connector_id}", { connector_id: id }, config);
  }

  async deleteConnector(id: string): Promise<void> {
    await this.send("DELETE", "/api/v1/connectors/{connector_id}", { connector_id: id });
  }

  /** Start or stop a connector, and keep it so across restarts. */
  setConnectorRunning(id: string, running: boolean): Promise<ConnectorView> {
    const template = running ? "/api/v1/connectors/{connector_id}/start" : "/api/v1/connectors/{connector_id}/stop";
    return this.send("POST", template, { connector_id: id });
  }

  /** The children of an OPC UA node (the Objects folder when null) on a connector's server. */
  browseConnector(id: string, nodeId: string | null): Promise<BrowsedNode[]> {
    return this.send("POST", "/api/v1/connectors/{connector_id}/browse", { connector_id: id }, { node_id: nodeId });
  }

  /** The connectors feeding the machine and their state. */
  machineConnectors(machineId: string): Promise<ConnectorView[]> {
    return this.get("/api/v1/machines/{machine_id}/connectors", { machine_id: machineId });
  }

  prediction(machineId: string): Promise<Prediction> {
    return this.get("/api/v1/machines/{machine_id}/prediction", { machine_id: machineId });
  }

  /** Queue a what-if job (Engineer role: 403 otherwise); 202 with the job, queued. */
  createScenario(body: ScenarioRequest): Promise<ScenarioJob> {
    return this.post("/api/v1/scenarios", {}, body);
  }

  /** Every what-if job the server remembers (unfinished ones and the newest finished), oldest first. */
  scenarios(): Promise<ScenarioSummary[]> {
    return this.get("/api/v1/scenarios");
  }

  /** A what-if job: state, progress, fork notes and, once done, its results. */
  scenario(id: string): Promise<ScenarioJob> {
    return this.get("/api/v1/scenarios/{job_id}", { job_id: id });
  }

  /** Cancel a queued or running what-if job (or forget a finished one). */
  cancelScenario(id: string): Promise<ScenarioJob> {
    return this.request(fill("/api/v1/scenarios/{job_id}", { job_id: id }), { method: "DELETE" });
  }

  profiles(): Promise<StoredProfile[]> {
    return this.get("/api/v1/profiles");
  }

  /** Create (`isNew`) or write the next version of a profile. */
  saveProfile(body: ProfileBody, isNew: boolean): Promise<StoredProfile> {
    return isNew
      ? this.send("POST", "/api/v1/profiles", {}, body)
      : this.send("PUT", "/api/v1/profiles/{profile_id}", { profile_id: body.id }, body);
  }

  async deleteProfile(id: string): Promise<void> {
    await this.send("DELETE", "/api/v1/profiles/{profile_id}", { profile_id: id });
  }

  importDtdl(body: DtdlImport): Promise<StoredProfile> {
    return this.send("POST", "/api/v1/profiles/import/dtdl", {}, body);
  }

  exportDtdl(id: string): Promise<Record<string, unknown>> {
    return this.get("/api/v1/profiles/{profile_id}/dtdl", { profile_id: id });
  }

  assets(): Promise<AssetInfo[]> {
    return this.get("/api/v1/assets");
  }

  /** Upload a glTF/GLB file as the raw body. */
  uploadAsset(file: Blob, name: string): Promise<AssetInfo> {
    const type = name.toLowerCase().endsWith(".gltf") ? "model/gltf+json" : "model/gltf-binary";
    const q = new URLSearchParams({ name });
    return this.request(`/api/v1/assets?${q.toString()}`, { method: "POST", body: file }, type);
  }

  createMachine(machine: Machine): Promise<Machine> {
    return this.send("POST", "/api/v1/machines", {}, machine);
  }

  updateMachine(machine: Machine): Promise<Machine> {
    return this.send("PUT", "/api/v1/machines/{machine_id}", { machine_id: machine.id }, machine);
  }

  async deleteMachine(id: string): Promise<void> {
    await this.send("DELETE", "/api/v1/machines/{machine_id}", { machine_id: id });
  }

  /** The maintenance plan and its cost against other policies; `status` "no_model" until a model exists. */
  schedule(): Promise<MaintenancePlan> {
    return this.get("/api/v1/maintenance/schedule");
  }
}

/** The `detail` problems of an error answer that carry a field path. */
export function fieldErrors(body: unknown): FieldError[] {
  if (!body || typeof body !== "object" || !("detail" in body)) return [];
  const detail = (body as { detail: unknown }).detail;
  if (!Array.isArray(detail)) return [];
  return detail
    .filter((d): d is FieldError => !!d && typeof d === "object" && Array.isArray((d as FieldError).loc))
    .map((d) => ({ loc: d.loc, msg: String(d.msg) }));
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
