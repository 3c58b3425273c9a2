// Wire types of the factorytwin API, derived from the generated OpenAPI schema (schema.ts, `make contract`).
// Nothing here is written by hand: every type is a name for a schema the server publishes.

import type { components, paths } from "./schema";

type Schemas = components["schemas"];

export type MachineKind = Schemas["MachineKind"];
export type MachineStatus = Schemas["MachineStatus"];
export type AlarmSeverity = Schemas["AlarmSeverity"];
export type AlarmStateName = Schemas["AlarmState"];
export type CommandKind = Schemas["CommandKind"];

export type SensorSpec = Schemas["SensorSpec"];
export type Catalogue = JsonOf<"/api/v1/catalogue", "get">;
export type Footprint = Schemas["Footprint"];
export type Machine = Schemas["Machine"];
export type ProductionLine = Schemas["ProductionLine"];
/** GET /layout: the layout and the footprint of every machine kind. */
export type FactoryLayout = Schemas["LayoutView"];
export type PlantInfo = Schemas["PlantInfo"];
export type MachineView = Schemas["MachineView"];
export type MachineState = Schemas["MachineState"];
export type Alarm = Schemas["Alarm"];
/** An alarm the store has saved: every alarm the server sends has its id (null only before the first save). */
export type StoredAlarm = Alarm & { id: number };
export type MachineEvent = Schemas["Event"];
export type Reason = Schemas["Reason"];
export type Prediction = Schemas["Prediction"];
export type HistoryBucket = Schemas["HistoryBucket"];
export type HistorySeries = Schemas["History"];
export type ScheduledTask = Schemas["ScheduledTask"];
export type PolicyCost = Schemas["PolicyCost"];
export type MaintenancePlan = Schemas["MaintenancePlan"];
export type Health = Schemas["Health"];
/** The logged-in caller (GET /auth/me) and a new session (POST /auth/login). */
export type Me = Schemas["Me"];
export type LoginResponse = Schemas["LoginResponse"];
export type Role = Schemas["Role"];
/** One line of the audit trail (GET /audit, admin) and how an audited attempt ended. */
export type AuditEntry = Schemas["AuditEntry"];
export type Outcome = Schemas["Outcome"];
/** GET /kpis: OEE and friends of a scope, its buckets and its parts (docs/KPIS.md). */
export type KpiReport = Schemas["KpiReport"];
export type KpiFigures = Schemas["KpiFigures"];
export type DowntimeCause = Schemas["DowntimeCause"];
export type KpiGrouping = Schemas["Grouping"];
export type CommandRequest = Schemas["Command"];
export type CommandResult = Schemas["CommandResult"];
export type ErrorBody = Schemas["ErrorBody"];
/** A connector feeding a machine, with its live status (docs/CONNECT.md). */
export type ConnectorView = Schemas["ConnectorView"];
export type BrowsedNode = Schemas["BrowsedNode"];
/** What-if scenarios (docs/WHATIF.md): a plan, a job (POST/GET /scenarios), its results and its stream message. */
export type ScenarioPlan = Schemas["Plan"];
export type ScenarioRequest = Schemas["ScenarioRequest"];
export type ScenarioJob = Schemas["ScenarioJob"];
export type ScenarioSummary = Schemas["ScenarioSummary"];
export type ScenarioProgress = Schemas["ScenarioProgressMessage"];
export type WhatIfResult = Schemas["WhatIfResult"];
export type ScenarioOutcome = Schemas["ScenarioOutcome"];
export type MachineOutcome = Schemas["MachineOutcome"];
export type Spread = Schemas["Spread"];
export type Difference = Schemas["Difference"];
export type Comparison = Schemas["Comparison"];
export type Fan = Schemas["Fan"];
/** Maintenance work orders (docs/KPIS.md "Work orders"). */
export type WorkOrder = Schemas["WorkOrder"];
export type WorkOrderState = Schemas["WorkOrderState"];
export type WorkOrderCreate = Schemas["WorkOrderCreate"];
export type WorkOrderTransition = Schemas["WorkOrderTransition"];
/** Machine profiles (docs/PROFILES.md): what a client writes, what the store keeps, and their parts. */
export type ProfileBody = Schemas["ProfileBody"];
export type StoredProfile = Schemas["StoredProfile"];
export type ProfileSensor = Schemas["ProfileSensor"];
export type ProfileCommand = Schemas["ProfileCommand"];
export type AssetInfo = Schemas["AssetInfo"];
export type DtdlImport = Schemas["DtdlImport"];
export type BandOverride = Schemas["BandOverride"];

/** Messages the server sends on /api/v1/stream (a union told apart by `type`). */
export type ServerMessage = Schemas["ServerMessage"];
/** Several server messages in one frame, for a client that connected with `?batch=true` (docs/WEBSOCKET.md). */
export type BatchMessage = Schemas["BatchMessage"];
/** Messages a client may send on /api/v1/stream. */
export type ClientMessage = Schemas["ClientMessage"];

type Method = "get" | "post";
type Responses<P extends keyof paths, M extends Method> = paths[P][M] extends { responses: infer R } ? R : never;
type Ok<R> = R extends { 200: infer O } ? O : R extends { 201: infer O } ? O : R extends { 202: infer O } ? O : never;

/** The JSON body of the success answer of `M P`. */
export type JsonOf<P extends keyof paths, M extends Method> =
  Ok<Responses<P, M>> extends { content: { "application/json": infer J } } ? J : never;

/** The JSON body that `POST P` takes. */
export type BodyOf<P extends keyof paths> = paths[P]["post"] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;
/** Saved History views (GET/POST /views, docs/KPIS.md "Saved and shared views"). */
export type SavedView = Schemas["SavedView"];
export type SavedViewIn = Schemas["SavedViewIn"];
export type SavedViewPatch = Schemas["SavedViewPatch"];
