// Wire types of the factorytwin API (docs/API.md). Optional fields are ones the contract leaves open.

export type MachineKind =
  | "cnc_mill"
  | "lathe"
  | "hydraulic_press"
  | "pump"
  | "air_compressor"
  | "conveyor"
  | "robot_arm";

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

export interface Prediction {
  machine_id: string;
  failure_probability?: number | null;
  horizon_h?: number | null;
  rul_h?: number | null;
  rul_low_h?: number | null;
  rul_high_h?: number | null;
  likely_mode?: string | null;
  reasons?: unknown[];
  model_version?: string | null;
  ts?: string | null;
  [extra: string]: unknown;
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
  buckets: HistoryBucket[];
}

export interface ScheduleItem {
  machine_id: string;
  due?: string | null;
  action?: string | null;
  reason?: string | null;
  [extra: string]: unknown;
}

export interface MaintenanceSchedule {
  items: ScheduleItem[];
  costs?: Record<string, unknown> | null;
  raw: unknown;
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
