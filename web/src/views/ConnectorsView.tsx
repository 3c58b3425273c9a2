// Connectors (#/connectors): OPC UA, Modbus and mapped-MQTT connectors with their live state; a connector made or
// edited field by field (ConnectorForm), or pasted as JSON; an OPC UA server's address space browsed node by node,
// a variable mapped with one click. The server's 422 problems are named by field. Writes need the engineer role;
// the page says so otherwise.

import { useEffect, useState } from "react";
import { api, ApiError } from "../api/client";
import type { BrowsedNode, ConnectorView, MachineView, StoredProfile } from "../api/types";
import { ConnectorForm } from "../components/ConnectorForm";
import { addRow, blankConfig, KIND_LABELS, rowsOf, type ConnectorConfig, type ConnectorKind } from "../connectorForm";
import { formatAgo } from "../format";
import { errorText, usePolling } from "../hooks/usePolling";
import { refusal, useSession } from "../session";

function stateOf(c: ConnectorView): string {
  if (!c.status) return c.problem ? `not running: ${c.problem}` : "not running";
  const last = c.status.last_value_at ? `, last value ${formatAgo(c.status.last_value_at)}` : ", no value yet";
  return `${c.status.state}${c.status.state === "connected" ? last : ""}`;
}

type MapNode = ((node: BrowsedNode) => void) | null;

function BrowseNode(props: { connector: string; node: BrowsedNode | null; depth: number; onMap: MapNode }) {
  const { connector, node, depth, onMap } = props;
  const [children, setChildren] = useState<BrowsedNode[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(node === null);
  const load = (): void => {
    setError(null);
    api.browseConnector(connector, node?.node_id ?? null).then(setChildren, (e: unknown) => setError(errorText(e)));
  };
  const toggle = (): void => {
    if (!open && children === null) load();
    setOpen(!open);
  };
  const root = node === null;
  useEffect(() => {
    if (!root) return;
    let live = true;
    api.browseConnector(connector, null).then(
      (found) => live && setChildren(found),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [root, connector]);
  return (
    <li data-testid="browse-node" data-node={node?.node_id ?? "Objects"} style={{ marginLeft: depth * 14 }}>
      {node === null ? (
        <span className="muted">Objects</span>
      ) : (
        <button className="link" onClick={toggle} data-testid="browse-toggle">
          {node.node_class === "Variable" ? "•" : open ? "▾" : "▸"} {node.display_name}
        </button>
      )}
      {node && (
        <span className="faint">
          {" "}
          <code data-testid="browse-node-id">{node.node_id}</code> {node.node_class}
          {node.data_type ? ` · ${node.data_type}` : ""}
          {node.node_class === "Variable" && onMap && (
            <>
              {" "}
              <button className="btn sm" onClick={() => onMap(node)} data-testid="browse-map">
                + map
              </button>
            </>
          )}
        </span>
      )}
      {error && <div className="warn-text">could not browse: {error}</div>}
      {open && children && (
        <ul className="browse-tree">
          {children.map((c) => (
            <BrowseNode key={c.node_id} connector={connector} node={c} depth={depth + 1} onMap={onMap} />
          ))}
        </ul>
      )}
    </li>
  );
}

function NewConnector({ onDone }: { onDone: () => void }) {
  const [text, setText] = useState("");
  const [problems, setProblems] = useState<string[]>([]);
  const [state, setState] = useState<"idle" | "saving" | "saved">("idle");
  const save = (): void => {
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (e) {
      setProblems([`not JSON: ${errorText(e)}`]);
      return;
    }
    setState("saving");
    setProblems([]);
    api.createConnector(config).then(
      () => {
        setState("saved");
        setText("");
        onDone();
      },
      (e: unknown) => {
        setState("idle");
        const named = e instanceof ApiError ? e.problems.map((p) => `${p.loc.join(".")}: ${p.msg}`) : [];
        setProblems(named.length ? named : [errorText(e)]);
      },
    );
  };
  return (
    <div className="card" data-testid="connector-new">
      <div className="card-h">New connector from its JSON configuration (docs/CONNECT.md)</div>
      <textarea
        rows={8}
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder='{"kind": "opcua", "id": "plc1", "endpoint": "opc.tcp://host:4840/", "mappings": [...]}'
        data-testid="connector-json"
        style={{ width: "100%", fontFamily: "monospace" }}
      />
      <button className="btn" onClick={save} disabled={state === "saving"} data-testid="connector-save">
        {state === "saving" ? "Saving…" : "Create and start"}
      </button>
      {state === "saved" && <span className="ok"> saved</span>}
      {problems.map((p) => (
        <div key={p} className="warn-text" data-testid="connector-problem">
          {p}
        </div>
      ))}
    </div>
  );
}

/** The form's configuration; ``form`` changes only when another connector (or a new one) is opened in it. */
type Editing = { config: ConnectorConfig; isNew: boolean; form: number };

export function ConnectorsView() {
  const me = useSession();
  const cannot = refusal(me, "engineer");
  const [browsing, setBrowsing] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [pasting, setPasting] = useState(false);
  // The machines and profiles a form offers, loaded for each form that opens (tagged with its number): one
  // provisioned since the last form (here, in the editor or through the API) is there to pick.
  const [loaded, setLoaded] = useState<{ form: number; machines: MachineView[]; profiles: StoredProfile[] } | null>(
    null,
  );
  const [loadError, setLoadError] = useState<{ form: number; text: string } | null>(null);
  const [tick, setTick] = useState(0);
  const { data, error } = usePolling(`connectors-${tick}`, () => api.connectors(), 5_000, "the connectors");
  const formId = editing?.form ?? null;
  const plant = loaded !== null && loaded.form === formId ? loaded : null;
  const plantError = loadError !== null && loadError.form === formId ? loadError.text : null;
  useEffect(() => {
    if (formId === null) return;
    let live = true;
    Promise.all([api.machines(), api.profiles()]).then(
      ([machines, profiles]) => live && setLoaded({ form: formId, machines, profiles }),
      (e: unknown) => live && setLoadError({ form: formId, text: errorText(e) }),
    );
    return () => {
      live = false;
    };
  }, [formId]);
  const act = (p: Promise<unknown>): void => {
    p.then(
      () => setTick((t) => t + 1),
      (e: unknown) => alert(errorText(e)),
    );
  };
  const [forms, setForms] = useState(0);
  const open = (config: ConnectorConfig, isNew: boolean): void => {
    setEditing({ config, isNew, form: forms + 1 });
    setForms(forms + 1);
  };
  const start = (kind: ConnectorKind): void => {
    open(blankConfig(kind), true);
    setPasting(false);
  };
  const edit = (c: ConnectorView): void => open(c.config, false);
  // A browsed variable becomes a mapping row of that connector: appended to the form when it is open on it,
  // else the connector's form opens with the row added (saved only with "Save and restart").
  const mapNode = (connector: ConnectorView) => (node: BrowsedNode) => {
    const same = editing !== null && !editing.isNew && editing.config.id === connector.config.id;
    const base = same ? editing.config : connector.config;
    if (rowsOf(base).some((r) => "node_id" in r && r.node_id === node.node_id)) return;
    const config = addRow(base, { node_id: node.node_id });
    if (same) setEditing({ ...editing, config });
    else open(config, false);
  };
  const browsed = data?.find((c) => c.config.id === browsing) ?? null;
  return (
    <div className="scroll" data-testid="connectors">
      <div className="card">
        <div className="card-h">
          Connectors
          <span className="spacer" />
          {!cannot && (
            <span className="conn-new">
              New:{" "}
              {(Object.keys(KIND_LABELS) as ConnectorKind[]).map((k) => (
                <button key={k} className="btn sm" onClick={() => start(k)} data-testid={`connector-new-${k}`}>
                  {KIND_LABELS[k]}
                </button>
              ))}
              <button className="btn sm" onClick={() => setPasting(!pasting)} data-testid="connector-paste">
                JSON…
              </button>
            </span>
          )}
        </div>
        {error && !data && <div className="empty warn-text">could not load the connectors: {error}</div>}
        {data && data.length === 0 && <div className="empty">No connector yet.</div>}
        {data && data.length > 0 && (
          <table className="t">
            <thead>
              <tr>
                <th>id</th>
                <th>kind</th>
                <th>state</th>
                <th>values</th>
                <th>last error</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.map((c) => (
                <tr key={c.config.id} data-testid="connector-row" data-state={c.status?.state ?? "unknown"}>
                  <td className="num">{c.config.id}</td>
                  <td>{c.config.kind}</td>
                  <td>{stateOf(c)}</td>
                  <td className="num">{c.status?.values_total ?? "—"}</td>
                  <td className="faint">{c.status?.last_error ?? ""}</td>
                  <td>
                    {c.config.kind === "opcua" && (
                      <button className="btn" onClick={() => setBrowsing(c.config.id)} data-testid="connector-browse">
                        Browse
                      </button>
                    )}{" "}
                    <button
                      className="btn"
                      disabled={cannot !== null}
                      title={cannot ?? undefined}
                      onClick={() => edit(c)}
                      data-testid="connector-edit"
                    >
                      Edit
                    </button>{" "}
                    <button
                      className="btn"
                      disabled={cannot !== null}
                      title={cannot ?? undefined}
                      onClick={() => act(api.setConnectorRunning(c.config.id, !c.enabled))}
                    >
                      {c.enabled ? "Stop" : "Start"}
                    </button>{" "}
                    <button
                      className="btn danger"
                      disabled={cannot !== null}
                      title={cannot ?? undefined}
                      onClick={() =>
                        confirm(`Delete connector ${c.config.id}?`) && act(api.deleteConnector(c.config.id))
                      }
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {cannot && <div className="faint">Changing connectors {cannot}.</div>}
      </div>
      {editing && !cannot && plant && (
        <ConnectorForm
          key={editing.form}
          config={editing.config}
          isNew={editing.isNew}
          machines={plant.machines}
          profiles={plant.profiles}
          onChange={(config) => setEditing({ ...editing, config })}
          onSaved={(view) => {
            setEditing({ ...editing, config: view.config, isNew: false });
            setTick((t) => t + 1);
          }}
          onClose={() => setEditing(null)}
        />
      )}
      {editing && !plant && (
        <div className="card faint">
          {plantError ? `could not load the machines and profiles: ${plantError}` : "loading the machines…"}
        </div>
      )}
      {browsing && (
        <div className="card" data-testid="browse">
          <div className="card-h">
            Address space of {browsing}{" "}
            <span className="faint">
              {cannot ? "(copy a node id into a mapping)" : "(+ map adds a node to the connector)"}
            </span>
          </div>
          <ul className="browse-tree">
            <BrowseNode
              key={browsing}
              connector={browsing}
              node={null}
              depth={0}
              onMap={!cannot && browsed ? mapNode(browsed) : null}
            />
          </ul>
        </div>
      )}
      {!cannot && pasting && <NewConnector onDone={() => setTick((t) => t + 1)} />}
    </div>
  );
}
