import { describe, expect, it } from "vitest";
import {
  addRow,
  blankConfig,
  clientProblems,
  connectorPathKey,
  numberOf,
  removeRow,
  rowsOf,
  updateRow,
  type Modbus,
  type MqttJson,
  type OpcUa,
} from "./connectorForm";

const SENSORS: Record<string, string[]> = { "pump-01": ["flow", "speed"], "boiler-1": ["steam_temp"] };
const sensorsOf = (id: string): string[] | undefined => SENSORS[id];

describe("connector form", () => {
  it("keys the server's field paths without the body and the kind's tag", () => {
    expect(connectorPathKey(["body", "opcua", "endpoint"])).toBe("endpoint");
    expect(connectorPathKey(["body", "mappings", 0, "machine_id"])).toBe("mappings.0.machine_id");
    expect(connectorPathKey(["body", "kind"])).toBe("kind");
    expect(connectorPathKey(["body", "modbus", "registers", 1, "address"])).toBe("registers.1.address");
  });

  it("starts each kind with the server's defaults and one row to fill", () => {
    const opc = blankConfig("opcua", "pump-01", "flow");
    expect(opc).toMatchObject({ kind: "opcua", publishing_interval_ms: 500, timeout_s: 4 });
    expect(rowsOf(opc)).toEqual([{ node_id: "", machine_id: "pump-01", sensor: "flow", scale: 1, offset: 0 }]);
    const mb = blankConfig("modbus");
    expect(mb).toMatchObject({ port: 502, unit_id: 1, poll_interval_s: 1 });
    expect(rowsOf(mb)[0]).toMatchObject({ address: 0, table: "holding", data_type: "uint16", word_order: "big" });
    const mq = blankConfig("mqtt_json", "pump-01");
    expect(mq).toMatchObject({ machine_id: "pump-01", qos: 1, timestamp_format: "iso8601" });
    expect(rowsOf(mq)).toEqual([{ pointer: "", sensor: "", scale: 1, offset: 0 }]);
  });

  it("adds, changes and removes rows, keeping the settings it has no field for", () => {
    const base: Modbus = {
      ...blankConfig("modbus", "pump-01", "flow"),
      id: "plc",
      host: "10.0.0.5",
      backoff: { initial_s: 1, max_s: 9 },
    };
    let c = addRow(base);
    expect(rowsOf(c)[1]).toMatchObject({ address: 1, machine_id: "pump-01", sensor: "" }); // the next register
    c = updateRow(c, 1, { sensor: "speed", data_type: "float32" });
    expect(rowsOf(c)[1]).toMatchObject({ sensor: "speed", data_type: "float32" });
    c = removeRow(c, 0);
    expect(rowsOf(c)).toHaveLength(1);
    expect(c).toMatchObject({ host: "10.0.0.5", backoff: { initial_s: 1, max_s: 9 } });
    const opc = addRow({ ...blankConfig("opcua", "boiler-1", "steam_temp"), id: "b" }, { node_id: "ns=2;i=7" });
    expect(rowsOf(opc)[1]).toMatchObject({ node_id: "ns=2;i=7", machine_id: "boiler-1" });
  });

  it("finds the obvious mistakes at the server's paths", () => {
    const good: OpcUa = {
      ...blankConfig("opcua", "pump-01", "flow"),
      id: "plc-1",
      endpoint: "opc.tcp://plc1:4840/",
      mappings: [{ node_id: "ns=2;s=Pump1.Flow", machine_id: "pump-01", sensor: "flow", scale: 1, offset: 0 }],
    };
    expect(clientProblems(good, sensorsOf)).toEqual({});
    const bad: OpcUa = {
      ...good,
      id: "",
      endpoint: "http://plc1",
      publishing_interval_ms: numberOf(""),
      mappings: [
        { node_id: "Pump1.Flow", machine_id: "pump-01", sensor: "torque", scale: numberOf("x"), offset: 0 },
        { node_id: "ns=2;i=5", machine_id: "nope", sensor: "flow", scale: 1, offset: 0 },
        { node_id: "ns=2;i=6", machine_id: "", sensor: "", scale: 1, offset: 0 },
        { node_id: "ns=2;i=7", machine_id: "pump-01", sensor: "speed", scale: 1, offset: 0 },
        { node_id: "ns=2;i=8", machine_id: "pump-01", sensor: "speed", scale: 1, offset: 0 },
      ],
    };
    expect(clientProblems(bad, sensorsOf)).toEqual({
      id: "letters, digits, _ . - (1-64), starting with a letter or digit",
      endpoint: "e.g. opc.tcp://plc1:4840/",
      publishing_interval_ms: "a number",
      "mappings.0.node_id": "e.g. ns=2;i=5 or ns=2;s=Pump1.Flow",
      "mappings.0.sensor": "pump-01 has no sensor torque",
      "mappings.0.scale": "a number",
      "mappings.1.machine_id": "no machine nope",
      "mappings.2.machine_id": "pick a machine",
      "mappings.2.sensor": "pick a sensor",
      "mappings.4.sensor": "already mapped by row 4",
    });
    expect(clientProblems({ ...good, mappings: [] }, sensorsOf)).toMatchObject({ mappings: "map at least one value" });
  });

  it("checks MQTT JSON rows against the one fixed machine, or only their keys when messages name the machine", () => {
    const fixed: MqttJson = {
      ...blankConfig("mqtt_json", "pump-01"),
      id: "gw",
      topic_filters: ["plant/pump/data"],
      values: [{ pointer: "data/flow", sensor: "flw", scale: 1, offset: 0 }],
    };
    expect(clientProblems(fixed, sensorsOf)).toEqual({
      "values.0.pointer": "a JSON pointer such as /data/temp",
      "values.0.sensor": "pump-01 has no sensor flw",
    });
    const named: MqttJson = { ...fixed, machine_id: null, machine_id_topic_segment: 1, topic_filters: [""] };
    expect(clientProblems(named, sensorsOf)).toEqual({
      topic_filters: "one topic filter a line, e.g. plant/+/data",
      "values.0.pointer": "a JSON pointer such as /data/temp",
    });
    expect(clientProblems({ ...fixed, machine_id: null }, sensorsOf)).toMatchObject({ machine_id: "pick a machine" });
    expect(clientProblems({ ...fixed, machine_id: "", values: [] }, sensorsOf)).toMatchObject({
      machine_id: "pick a machine",
      values: "map at least one value",
    });
  });
});
