// Connectors (#/connectors): OPC UA, Modbus and mapped-MQTT connectors with their live state; an OPC UA server's
// address space browsed node by node to pick what to map; a new connector from its JSON configuration, with the
// server's 422 problems named by field. Writes need the engineer role; the page says so otherwise.

import { useEffect, useState } from "react";
import { api, ApiError } from "../api/client";
import type { BrowsedNode, ConnectorView } from "../api/types";
import { formatAgo } from "../format";
import { errorText, usePolling } from "../hooks/usePolling";
import { refusal, useSession } from "../session";

function stateOf(c: ConnectorView): string {
  if (!c.status) return c.problem ? `not running: ${c.problem}` : "not running";
  const last = c.status.last_value_at ? `, last value ${formatAgo(c.status.last_value_at)}` : ", no value yet";
  return `${c.status.state}${c.status.state === "connected" ? last : ""}`;
}

function BrowseNode({ connector, node, depth }: { connector: string; node: BrowsedNode | null; depth: number }) {
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
        </span>
      )}
      {error && <div className="warn-text">could not browse: {error}</div>}
      {open && children && (
        <ul className="browse-tree">
          {children.map((c) => (
            <BrowseNode key={c.node_id} connector={connector} node={c} depth={depth + 1} />
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
      <div className="card-h">New connector (JSON configuration, docs/CONNECT.md)</div>
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

export function ConnectorsView() {
  const me = useSession();
  const cannot = refusal(me, "engineer");
  const [browsing, setBrowsing] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const { data, error } = usePolling(`connectors-${tick}`, () => api.connectors(), 5_000, "the connectors");
  const act = (p: Promise<unknown>): void => {
    p.then(
      () => setTick((t) => t + 1),
      (e: unknown) => alert(errorText(e)),
    );
  };
  return (
    <div className="scroll" data-testid="connectors">
      <div className="card">
        <div className="card-h">Connectors</div>
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
      {browsing && (
        <div className="card" data-testid="browse">
          <div className="card-h">
            Address space of {browsing} <span className="faint">(copy a node id into a mapping)</span>
          </div>
          <ul className="browse-tree">
            <BrowseNode key={browsing} connector={browsing} node={null} depth={0} />
          </ul>
        </div>
      )}
      {!cannot && <NewConnector onDone={() => setTick((t) => t + 1)} />}
    </div>
  );
}
