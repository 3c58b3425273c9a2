// A connector made or edited field by field (docs/CONNECT.md): the kind's connection settings, then one row per
// mapped value (an OPC UA node, a Modbus register, a JSON pointer) to a machine and one of its profile's sensors,
// picked from lists. Saved only when the server answered 2xx; its 422 problems are shown at their fields.
// Settings the form has no field for (commands, security, back-off, name/value pairs) are kept as they were; the
// whole configuration can be read as JSON below the form.

import { useState } from "react";
import { api, ApiError, type FieldError as Problem } from "../api/client";
import type { ConnectorView, MachineView, StoredProfile } from "../api/types";
import {
  addRow,
  clientProblems,
  connectorPathKey,
  KIND_LABELS,
  numberOf,
  removeRow,
  rowsField,
  rowsOf,
  updateRow,
  type ConnectorConfig,
  type MappingRow,
} from "../connectorForm";
import { errorText } from "../hooks/usePolling";
import { problemsByPath } from "../profileEdit";
import { FieldError } from "./FieldError";

type Save = { state: "idle" } | { state: "saving" } | { state: "saved" } | { state: "failed"; why: string };

const shown = (v: number): string | number => (Number.isFinite(v) ? v : "");

export function ConnectorForm(props: {
  config: ConnectorConfig;
  isNew: boolean;
  machines: readonly MachineView[];
  profiles: readonly StoredProfile[];
  onChange: (config: ConnectorConfig) => void;
  onSaved: (view: ConnectorView) => void;
  onClose: () => void;
}) {
  const { config, isNew, machines, profiles, onChange, onSaved, onClose } = props;
  const [server, setServer] = useState<Problem[]>([]);
  const [save, setSave] = useState<Save>({ state: "idle" });
  const [tried, setTried] = useState(false);
  const sensorsByProfile = new Map(profiles.map((p) => [p.id, p.sensors.map((s) => s.key)]));
  const sensorsOf = (id: string): readonly string[] | undefined => {
    const m = machines.find((x) => x.id === id);
    return m ? (sensorsByProfile.get(m.profile) ?? []) : undefined;
  };
  const problems = { ...(tried ? clientProblems(config, sensorsOf) : {}), ...problemsByPath(server, connectorPathKey) };
  const set = (next: ConnectorConfig): void => {
    onChange(next);
    setSave({ state: "idle" });
  };
  const field = <K extends string>(name: K, value: unknown): void =>
    set({ ...config, [name]: value } as ConnectorConfig);
  const submit = (): void => {
    setTried(true);
    if (Object.keys(clientProblems(config, sensorsOf)).length) return;
    setSave({ state: "saving" });
    (isNew ? api.createConnector(config) : api.updateConnector(config.id, config)).then(
      (view) => {
        setServer([]);
        setSave({ state: "saved" });
        onSaved(view);
      },
      (e: unknown) => {
        setServer(e instanceof ApiError ? e.problems : []);
        setSave({ state: "failed", why: errorText(e) });
      },
    );
  };
  const text = (name: string, label: string, value: string, placeholder = "") => (
    <label className="conn-field">
      <span>{label}</span>
      <input
        value={value}
        placeholder={placeholder}
        onChange={(e) => field(name, e.target.value)}
        data-testid={`conn-${name}`}
      />
      <FieldError at={name} problems={problems} />
    </label>
  );
  const num = (name: string, label: string, value: number) => (
    <label className="conn-field">
      <span>{label}</span>
      <input
        type="number"
        value={shown(value)}
        onChange={(e) => field(name, numberOf(e.target.value))}
        data-testid={`conn-${name}`}
      />
      <FieldError at={name} problems={problems} />
    </label>
  );
  const machineSelect = (value: string, onPick: (id: string) => void, testid: string) => (
    <select value={value} onChange={(e) => onPick(e.target.value)} data-testid={testid} aria-label="machine">
      <option value="">machine…</option>
      {machines.map((m) => (
        <option key={m.id} value={m.id}>
          {m.id}
        </option>
      ))}
    </select>
  );
  const field0 = rowsField(config.kind);
  const fixedMachine = config.kind === "mqtt_json" ? (config.machine_id ?? null) : null;
  const row = (r: MappingRow, i: number) => {
    const at = `${field0}.${i}`;
    const machine = "machine_id" in r ? r.machine_id : fixedMachine;
    const sensors = machine ? (sensorsOf(machine) ?? []) : [];
    const upd = (patch: Record<string, unknown>): void => set(updateRow(config, i, patch));
    const cell = (name: string, input: React.JSX.Element) => (
      <td>
        {input}
        <FieldError at={`${at}.${name}`} problems={problems} />
      </td>
    );
    return (
      <tr key={i} data-testid={`conn-row-${i}`}>
        {"node_id" in r &&
          cell(
            "node_id",
            <input
              value={r.node_id}
              placeholder="ns=2;s=Pump1.Flow"
              onChange={(e) => upd({ node_id: e.target.value })}
              data-testid={`conn-row-${i}-node_id`}
              aria-label="node id"
            />,
          )}
        {"address" in r && (
          <>
            {cell(
              "address",
              <input
                type="number"
                className="narrow"
                value={shown(r.address)}
                onChange={(e) => upd({ address: numberOf(e.target.value) })}
                data-testid={`conn-row-${i}-address`}
                aria-label="address"
              />,
            )}
            {cell(
              "table",
              <select value={r.table} onChange={(e) => upd({ table: e.target.value })} aria-label="table">
                <option value="holding">holding</option>
                <option value="input">input</option>
              </select>,
            )}
            {cell(
              "data_type",
              <select value={r.data_type} onChange={(e) => upd({ data_type: e.target.value })} aria-label="type">
                {["uint16", "int16", "uint32", "int32", "float32"].map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>,
            )}
            {cell(
              "word_order",
              <select value={r.word_order} onChange={(e) => upd({ word_order: e.target.value })} aria-label="words">
                <option value="big">big</option>
                <option value="little">little</option>
              </select>,
            )}
          </>
        )}
        {"pointer" in r &&
          cell(
            "pointer",
            <input
              value={r.pointer}
              placeholder="/data/temp"
              onChange={(e) => upd({ pointer: e.target.value })}
              data-testid={`conn-row-${i}-pointer`}
              aria-label="JSON pointer"
            />,
          )}
        {"machine_id" in r &&
          cell(
            "machine_id",
            machineSelect(r.machine_id, (id) => upd({ machine_id: id, sensor: "" }), `conn-row-${i}-machine`),
          )}
        {cell(
          "sensor",
          sensors.length > 0 ? (
            <select
              value={r.sensor}
              onChange={(e) => upd({ sensor: e.target.value })}
              data-testid={`conn-row-${i}-sensor`}
              aria-label="sensor"
            >
              <option value="">sensor…</option>
              {sensors.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          ) : (
            <input
              value={r.sensor}
              placeholder="sensor key"
              onChange={(e) => upd({ sensor: e.target.value })}
              data-testid={`conn-row-${i}-sensor`}
              aria-label="sensor"
            />
          ),
        )}
        {cell(
          "scale",
          <input
            type="number"
            className="narrow"
            value={shown(r.scale)}
            onChange={(e) => upd({ scale: numberOf(e.target.value) })}
            aria-label="scale"
          />,
        )}
        {cell(
          "offset",
          <input
            type="number"
            className="narrow"
            value={shown(r.offset)}
            onChange={(e) => upd({ offset: numberOf(e.target.value) })}
            aria-label="offset"
          />,
        )}
        <td>
          <button className="btn sm" onClick={() => set(removeRow(config, i))} aria-label={`remove row ${i + 1}`}>
            ✕
          </button>
        </td>
      </tr>
    );
  };
  const rows = rowsOf(config);
  const first = rows[0];
  return (
    <div className="card" data-testid="connector-form" data-kind={config.kind}>
      <div className="card-h">
        {isNew ? `New ${KIND_LABELS[config.kind]} connector` : `Edit ${config.id} (${KIND_LABELS[config.kind]})`}
        <span className="spacer" />
        <button className="btn sm" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="conn-body">
        <div className="conn-fields">
          {isNew ? (
            text("id", "id", config.id, "plc-line-1")
          ) : (
            <label className="conn-field">
              <span>id</span>
              <code>{config.id}</code>
            </label>
          )}
          {config.kind === "opcua" && (
            <>
              {text("endpoint", "endpoint", config.endpoint, "opc.tcp://plc1:4840/")}
              {text("username", "user (optional)", config.username ?? "")}
              {num("publishing_interval_ms", "publishing interval, ms", config.publishing_interval_ms)}
            </>
          )}
          {config.kind === "modbus" && (
            <>
              {text("host", "host", config.host, "10.0.0.12")}
              {num("port", "port", config.port)}
              {num("unit_id", "unit id", config.unit_id)}
              {num("poll_interval_s", "poll every, s", config.poll_interval_s)}
            </>
          )}
          {config.kind === "mqtt_json" && (
            <>
              {text("broker_url", "broker", config.broker_url, "mqtt://broker:1883")}
              <label className="conn-field">
                <span>topic filters, one a line</span>
                <textarea
                  rows={2}
                  value={config.topic_filters.join("\n")}
                  onChange={(e) => field("topic_filters", e.target.value.split("\n"))}
                  data-testid="conn-topic_filters"
                />
                <FieldError at="topic_filters" problems={problems} />
              </label>
              {config.machine_id_pointer == null ? (
                <label className="conn-field">
                  <span>machine</span>
                  <select
                    value={config.machine_id_topic_segment == null ? "fixed" : "topic"}
                    onChange={(e) =>
                      set(
                        e.target.value === "fixed"
                          ? { ...config, machine_id_topic_segment: null, machine_id: "" }
                          : { ...config, machine_id: null, machine_id_topic_segment: 1 },
                      )
                    }
                    data-testid="conn-machine-source"
                  >
                    <option value="fixed">one machine sends here</option>
                    <option value="topic">named by a topic level</option>
                  </select>
                  {config.machine_id_topic_segment == null ? (
                    machineSelect(config.machine_id ?? "", (id) => field("machine_id", id), "conn-machine_id")
                  ) : (
                    <input
                      type="number"
                      value={shown(config.machine_id_topic_segment)}
                      onChange={(e) => field("machine_id_topic_segment", numberOf(e.target.value))}
                      aria-label="topic level, 0-based"
                      title="the topic level (0-based) that names the machine; it must be a + in the filters"
                      data-testid="conn-machine_id_topic_segment"
                    />
                  )}
                  <FieldError at="machine_id" problems={problems} />
                  <FieldError at="machine_id_topic_segment" problems={problems} />
                </label>
              ) : (
                <label className="conn-field">
                  <span>machine</span>
                  <span className="faint">from the payload at {config.machine_id_pointer}</span>
                </label>
              )}
            </>
          )}
        </div>
        {config.kind === "opcua" && config.password != null && (
          <div className="faint">The stored password is kept (it is never sent to the browser).</div>
        )}
        <table className="t conn-rows" data-testid="conn-rows">
          <thead>
            <tr>
              {first && "node_id" in first && <th>node id</th>}
              {first && "address" in first && (
                <>
                  <th>address</th>
                  <th>table</th>
                  <th>type</th>
                  <th>words</th>
                </>
              )}
              {first && "pointer" in first && <th>JSON pointer</th>}
              {first && "machine_id" in first && <th>machine</th>}
              <th>sensor</th>
              <th title="value × scale + offset, to the sensor's unit">scale</th>
              <th>offset</th>
              <th />
            </tr>
          </thead>
          <tbody>{rows.map(row)}</tbody>
        </table>
        <FieldError at={field0} problems={problems} />
        <div className="conn-actions">
          <button className="btn sm" onClick={() => set(addRow(config))} data-testid="conn-add-row">
            + {config.kind === "opcua" ? "node" : config.kind === "modbus" ? "register" : "value"}
          </button>
          <span className="spacer" />
          <button className="btn primary" onClick={submit} disabled={save.state === "saving"} data-testid="conn-save">
            {save.state === "saving" ? "Saving…" : isNew ? "Create and start" : "Save and restart"}
          </button>
          <span data-testid="conn-save-state" data-state={save.state}>
            {save.state === "saved" && <span className="ok"> saved</span>}
            {save.state === "failed" && <span className="warn-text"> Not saved: {save.why}</span>}
            {save.state === "idle" && tried && Object.keys(problems).length > 0 && (
              <span className="warn-text"> Not saved: fix the fields marked</span>
            )}
          </span>
        </div>
        <details>
          <summary className="faint">Configuration as JSON</summary>
          <pre className="conn-json" data-testid="conn-json">
            {JSON.stringify(config, null, 2)}
          </pre>
        </details>
      </div>
    </div>
  );
}
