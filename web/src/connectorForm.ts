// The connector form's pure part (docs/CONNECT.md): a new configuration of each kind with the server's defaults,
// the mapping rows as one list whatever the kind, and the obvious mistakes the browser can see before sending (the
// server checks everything again and has the last word; its 422 problems come back by the same field paths).
//
// The form edits a copy of the whole configuration, so whatever it has no field for (commands, security,
// back-off, the name/value-pair style of MQTT JSON) is sent back as it was.

import type { ConnectorView } from "./api/types";

export type ConnectorConfig = ConnectorView["config"];
export type ConnectorKind = ConnectorConfig["kind"];
export type ConfigOf<K extends ConnectorKind> = Extract<ConnectorConfig, { kind: K }>;
export type OpcUa = ConfigOf<"opcua">;
export type Modbus = ConfigOf<"modbus">;
export type MqttJson = ConfigOf<"mqtt_json">;
export type OpcUaMapping = OpcUa["mappings"][number];
export type ModbusRegister = Modbus["registers"][number];
export type MqttValue = NonNullable<MqttJson["values"]>[number];
export type MappingRow = OpcUaMapping | ModbusRegister | MqttValue;

export const KIND_LABELS: Record<ConnectorKind, string> = {
  opcua: "OPC UA",
  modbus: "Modbus TCP",
  mqtt_json: "MQTT JSON (any gateway)",
};

/** A new configuration of ``kind``, with the server's defaults and one mapping row to fill in. */
export function blankConfig<K extends ConnectorKind>(kind: K, machineId = "", sensor = ""): ConfigOf<K> {
  return blank(kind, machineId, sensor) as ConfigOf<K>;
}

function blank(kind: ConnectorKind, machineId: string, sensor: string): ConnectorConfig {
  if (kind === "opcua")
    return {
      kind,
      id: "",
      endpoint: "opc.tcp://",
      publishing_interval_ms: 500,
      source_timestamps: true,
      timeout_s: 4,
      mappings: [blankRow(kind, machineId, sensor, 0) as OpcUaMapping],
    };
  if (kind === "modbus")
    return {
      kind,
      id: "",
      host: "",
      port: 502,
      unit_id: 1,
      poll_interval_s: 1,
      timeout_s: 2,
      registers: [blankRow(kind, machineId, sensor, 0) as ModbusRegister],
    };
  return {
    kind,
    id: "",
    broker_url: "mqtt://127.0.0.1:1883",
    topic_filters: [""],
    qos: 1,
    machine_id: machineId || null,
    timestamp_format: "iso8601",
    max_payload_bytes: 65_536,
    values: [blankRow(kind, machineId, sensor, 0) as MqttValue],
  };
}

/** A new mapping row of ``kind``; the n-th Modbus register goes after the ones before it. */
export function blankRow(kind: ConnectorKind, machineId: string, sensor: string, n: number): MappingRow {
  if (kind === "opcua") return { node_id: "", machine_id: machineId, sensor, scale: 1, offset: 0 };
  if (kind === "modbus")
    return {
      address: n,
      table: "holding",
      data_type: "uint16",
      word_order: "big",
      machine_id: machineId,
      sensor,
      scale: 1,
      offset: 0,
    };
  return { pointer: "", sensor, scale: 1, offset: 0 };
}

/** The field that holds the mapping rows: ``mappings``, ``registers`` or ``values``. */
export function rowsField(kind: ConnectorKind): "mappings" | "registers" | "values" {
  return kind === "opcua" ? "mappings" : kind === "modbus" ? "registers" : "values";
}

export function rowsOf(config: ConnectorConfig): MappingRow[] {
  if (config.kind === "opcua") return config.mappings;
  if (config.kind === "modbus") return config.registers;
  return config.values ?? [];
}

/** ``config`` with its mapping rows replaced. */
export function withRows(config: ConnectorConfig, rows: MappingRow[]): ConnectorConfig {
  if (config.kind === "opcua") return { ...config, mappings: rows as OpcUaMapping[] };
  if (config.kind === "modbus") return { ...config, registers: rows as ModbusRegister[] };
  return { ...config, values: rows as MqttValue[] };
}

/** ``config`` with one more mapping row, e.g. an OPC UA node picked in the browsed address space. */
export function addRow(config: ConnectorConfig, patch: Partial<OpcUaMapping> = {}): ConnectorConfig {
  const rows = rowsOf(config);
  const last = rows[rows.length - 1];
  const machine = last && "machine_id" in last ? last.machine_id : "";
  const row = { ...blankRow(config.kind, machine, "", rows.length), ...patch } as MappingRow;
  if (config.kind === "modbus" && last && "address" in last) (row as ModbusRegister).address = last.address + 1;
  return withRows(config, [...rows, row]);
}

export function removeRow(config: ConnectorConfig, index: number): ConnectorConfig {
  return withRows(
    config,
    rowsOf(config).filter((_, i) => i !== index),
  );
}

export function updateRow(
  config: ConnectorConfig,
  index: number,
  patch: Partial<Record<string, unknown>>,
): ConnectorConfig {
  return withRows(
    config,
    rowsOf(config).map((r, i) => (i === index ? ({ ...r, ...patch } as MappingRow) : r)),
  );
}

/** A number typed in a field: the number, or NaN for anything else (empty included), which the checks name. */
export function numberOf(text: string): number {
  return text.trim() === "" ? Number.NaN : Number(text);
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const NODE_ID = /^(ns=\d{1,5};|nsu=[^;]+;)?(i=\d{1,10}|s=.+|g=[0-9A-Fa-f-]{36}|b=.+)$/;

/** The obvious mistakes, by the server's field paths (``mappings.0.node_id``); empty when none is seen.
 *  ``sensorsOf`` gives a machine's sensor keys (undefined: no such machine). */
export function clientProblems(
  config: ConnectorConfig,
  sensorsOf: (machineId: string) => readonly string[] | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!ID.test(config.id)) out["id"] = "letters, digits, _ . - (1-64), starting with a letter or digit";
  const field = rowsField(config.kind);
  const rows = rowsOf(config);
  if (rows.length === 0) out[field] = "map at least one value";
  const number = (v: number, at: string): void => {
    if (!Number.isFinite(v)) out[at] = "a number";
  };
  if (config.kind === "opcua") {
    if (!/^opc\.tcp:\/\/[^\s/]+(\/\S*)?$/.test(config.endpoint)) out["endpoint"] = "e.g. opc.tcp://plc1:4840/";
    number(config.publishing_interval_ms, "publishing_interval_ms");
  } else if (config.kind === "modbus") {
    if (!config.host.trim()) out["host"] = "the device's host name or address";
    number(config.port, "port");
    number(config.unit_id, "unit_id");
    number(config.poll_interval_s, "poll_interval_s");
  } else {
    if (!/^(mqtt|tcp):\/\/\S+$/.test(config.broker_url)) out["broker_url"] = "e.g. mqtt://broker:1883";
    if (config.topic_filters.length === 0 || config.topic_filters.some((t) => !t.trim()))
      out["topic_filters"] = "one topic filter a line, e.g. plant/+/data";
    const named = config.machine_id_topic_segment != null || config.machine_id_pointer != null;
    if (!named && !config.machine_id) out["machine_id"] = "pick a machine";
    else if (config.machine_id != null && sensorsOf(config.machine_id) === undefined)
      out["machine_id"] = `no machine ${config.machine_id}`;
  }
  // MQTT JSON: one fixed machine for every row, or the machine named by each message (then any sensor key goes).
  const fixedMachine = config.kind === "mqtt_json" ? config.machine_id || null : null;
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    const at = `${field}.${i}`;
    const machine = "machine_id" in row ? row.machine_id : fixedMachine;
    const sensors = machine ? sensorsOf(machine) : undefined;
    if (machine === "") out[`${at}.machine_id`] = "pick a machine";
    else if (machine !== null && sensors === undefined && "machine_id" in row)
      out[`${at}.machine_id`] = `no machine ${machine}`;
    if (!row.sensor) out[`${at}.sensor`] = "pick a sensor";
    else if (sensors !== undefined && !sensors.includes(row.sensor))
      out[`${at}.sensor`] = `${machine ?? ""} has no sensor ${row.sensor}`;
    number(row.scale, `${at}.scale`);
    number(row.offset, `${at}.offset`);
    if ("node_id" in row && !NODE_ID.test(row.node_id)) out[`${at}.node_id`] = "e.g. ns=2;i=5 or ns=2;s=Pump1.Flow";
    if ("address" in row && !(Number.isInteger(row.address) && row.address >= 0 && row.address <= 0xffff))
      out[`${at}.address`] = "0-65535";
    if ("pointer" in row && row.pointer !== "" && !row.pointer.startsWith("/"))
      out[`${at}.pointer`] = "a JSON pointer such as /data/temp";
    const target = `${machine ?? ""}/${row.sensor}`;
    const first = seen.get(target);
    if (row.sensor && first !== undefined) out[`${at}.sensor`] = `already mapped by row ${first + 1}`;
    seen.set(target, i);
  });
  return out;
}

const KINDS: readonly string[] = ["opcua", "modbus", "mqtt_json"];

/** A 422 problem's field path as the form's key: ``["body", "opcua", "endpoint"]`` -> ``endpoint``,
 *  ``["body", "mappings", 0, "sensor"]`` -> ``mappings.0.sensor`` (the body and the kind's tag dropped). */
export function connectorPathKey(loc: readonly (string | number)[]): string {
  let rest = loc[0] === "body" ? loc.slice(1) : loc;
  if (rest.length > 1 && typeof rest[0] === "string" && KINDS.includes(rest[0])) rest = rest.slice(1);
  return rest.join(".");
}
