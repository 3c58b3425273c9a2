// Wire types of the factorytwin API (docs/API.md). Optional fields are ones the contract leaves open.

export type MachineKind =
  "cnc_mill" | "lathe" | "hydraulic_press" | "pump" | "air_compressor" | "conveyor" | "robot_arm";

export type MachineStatus = "running" | "idle" | "stopped" | "failed" | "maintenance" | "offline";
export type AlarmSeverity = "critical" | "major" | "minor" | "warning";
export type AlarmStateName = "active_unack" | "active_ack" | "cleared_unack" | "cleared_ack";
export type CommandKind = "set_speed" | "stop" | "start" | "maintain";

export interface SensorSpec {
  key: string;
  label: string;
  unit: string;
  low: number;
  high: number;
  normal_low: number;
  normal_high: number;
  max_rate?: number | null;
}

export type Catalogue = Partial<Record<MachineKind, SensorSpec[]>>;

export interface Machine {
  id: string;
  name: string;
  kind: MachineKind;
  line: string;
  x: number;
  y: number;
  rotation: number;
  metadata?: Record<string, unknown>;
}

export interface ProductionLine {
  id: string;
  name: string;
}

export interface FactoryLayout {
  name: string;
  floor_width: number;
  floor_depth: number;
  lines: ProductionLine[];
  machines: Machine[];
}

export interface MachineState {
  machine_id: string;
  status: MachineStatus;
  health: number | null;
  last_seen: string | null;
  values: Record<string, number>;
  values_ts?: string | null;
  kind?: MachineKind;
  failure_probability?: number | null;
}

export interface Alarm {
  id: number;
  machine_id: string;
  type: string;
  severity: AlarmSeverity;
  state: AlarmStateName;
  message: string;
  sensor?: string | null;
  value?: number | null;
  raised_at: string;
  updated_at: string;
  acked_at?: string | null;
  acked_by?: string | null;
  cleared_at?: string | null;
  cleared_by?: string | null;
}

export interface MachineEvent {
  id?: number | null;
  machine_id: string;
  ts: string;
  kind: string;
  status?: MachineStatus | null;
  message: string;
  data?: Record<string, unknown>;
}

export interface Reason {
  feature: string;
  value: number | null;
  contribution: number;
}

/** GET /machines/{id}/prediction and the stream's `prediction` message (ml/schema.py Prediction). */
export interface Prediction {
  machine_id: string;
  status?: "ok" | "no_model" | "no_data";
  ts?: string | null;
  model_version?: string | null;
  probability?: number | null;
  /** The twin adds this copy of `probability` to the streamed prediction. */
  failure_probability?: number | null;
  horizon?: number | null;
  horizon_unit?: string;
  alert?: boolean | null;
  rul?: { median: number; low: number; high: number; unit?: string } | null;
  likely_mode?: string | null;
  mode_probabilities?: Record<string, number>;
  reasons?: Reason[];
  hours_since_service?: number | null;
  message?: string;
}

/** One bucket of a history query: the aggregate of the readings that fell in it. */
export interface HistoryBucket {
  ts: string;
  min: number;
  max: number;
  avg: number;
  count: number;
}

export interface HistorySeries {
  machine_id: string;
  sensor: string;
  /** The asked-for range (ISO 8601). */
  start: string;
  end: string;
  buckets: HistoryBucket[];
}

/** One recommended maintenance visit. */
export interface ScheduledTask {
  machine_id: string;
  shift_start: string;
  shift_index: number;
  hours: number;
  probability: number;
  risk_if_deferred: number;
  reason: string;
}

export interface PolicyCost {
  policy: "predictive" | "run_to_failure" | "fixed_interval";
  expected_cost: number;
  expected_failures: number;
  maintenance_visits: number;
}

/** GET /maintenance/schedule (ml/schema.py MaintenancePlan). */
export interface MaintenancePlan {
  status: "ok" | "no_model";
  generated_at: string;
  model_version?: string | null;
  horizon_h: number;
  tasks: ScheduledTask[];
  policies: PolicyCost[];
  message?: string;
}

export interface CommandRequest {
  command: CommandKind;
  speed_pct?: number;
  issued_by?: string;
}

/** Messages the server sends on /api/v1/stream. */
export type ServerMessage =
  | { type: "snapshot"; machines: MachineState[]; alarms: Alarm[] }
  | { type: "reading"; machine_id: string; ts: string; values: Record<string, number> }
  | { type: "state"; state: MachineState }
  | { type: "alarm"; alarm: Alarm }
  | { type: "event"; event: MachineEvent }
  | { type: "prediction"; prediction: Prediction };
