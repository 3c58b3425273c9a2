// The 3D floor view: the scene, a hover tooltip, a legend, and the selected machine's panel.

import { Canvas } from "@react-three/fiber";
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { Machine } from "../api/types";
import { EditBar, MachineEditPanel, useFloorEdit } from "../components/FloorEditor";
import { MachinePanel } from "../components/MachinePanel";
import { refusal, useSession } from "../session";
import { StaleTag } from "../components/Freshness";
import { useFactory } from "../context";
import { useStaleness } from "../hooks/useStaleness";
import { formatClock, formatValue, profileLabel, STATUS_COLOR, healthColor, SEVERITY_COLOR } from "../format";
import { hoverStore } from "../floor/hover";
import { LabelRegistry } from "../floor/overlay";
import { isSoftwareRenderer, pinnedDpr, rendererName } from "../floor/quality";
import { FactoryScene } from "../floor/Scene";
import { STATUSES } from "../state/selectors";
import { useTwin } from "../state/store";

// Decided once per page: probing the renderer creates (and drops) a WebGL context.
// ?quality=high pins full resolution with antialiasing (for screenshots on machines without a GPU); ?quality=0.3
// pins that render scale (what a slow software renderer drops to), to see the labels stay crisp.
const QUALITY = (() => {
  const deviceDpr = Math.min(2, window.devicePixelRatio || 1);
  const pinned = pinnedDpr(window.location.search, deviceDpr);
  if (pinned !== null) {
    return { software: false, startDpr: pinned, policy: { min: pinned, max: pinned, low: 0, high: 1e9 } };
  }
  const software = isSoftwareRenderer(rendererName());
  return {
    software,
    startDpr: software ? 0.75 : deviceDpr,
    policy: { min: software ? 0.3 : 0.6, max: deviceDpr, low: software ? 32 : 40, high: software ? 50 : 55 },
  };
})();

function Tooltip() {
  const hover = useSyncExternalStore(hoverStore.subscribe, hoverStore.get);
  const info = useFactory();
  const state = useTwin((s) => (hover ? s.machines[hover.id] : undefined));
  if (!hover) return null;
  const m = info.byId[hover.id];
  if (!m) return null;
  const specs = (info.catalogue[m.profile] ?? []).slice(0, 4);
  return (
    <div className="tooltip" style={{ left: hover.x + 16, top: hover.y + 12, position: "fixed" }} data-testid="tooltip">
      <div className="name">
        {m.name} <StaleTag />
      </div>
      <div className="row">
        <span className="muted">{profileLabel(m.profile, info.layout.profile_names)}</span>
        <span style={{ color: STATUS_COLOR[state?.status ?? "offline"] }}>{state?.status ?? "offline"}</span>
      </div>
      <div className="row">
        <span className="muted">Health</span>
        <span className="num" style={{ color: healthColor(state?.health) }}>
          {state?.health != null ? `${Math.round(state.health)}%` : "—"}
        </span>
      </div>
      {specs.map((s) => (
        <div className="row" key={s.key}>
          <span className="muted">{s.label}</span>
          <span className="num">{formatValue(state?.values[s.key], s.unit)}</span>
        </div>
      ))}
    </div>
  );
}

function MachineLabel({ machine, labels, selected }: { machine: Machine; labels: LabelRegistry; selected: boolean }) {
  const status = useTwin((s) => s.machines[machine.id]?.status ?? "offline");
  const ref = useCallback((el: HTMLDivElement | null) => labels.element(machine.id, el), [labels, machine.id]);
  return (
    <div
      ref={ref}
      className={`mlabel${selected ? " selected" : ""}`}
      style={{ visibility: "hidden" }}
      data-testid="machine-label"
      data-machine={machine.id}
    >
      <span className="dot" style={{ background: STATUS_COLOR[status] }} />
      {machine.name}
    </div>
  );
}

/** The machines' names as HTML over the canvas (positioned by the scene each frame: floor/overlay.ts). */
function MachineLabels({ labels, selected }: { labels: LabelRegistry; selected: string | null }) {
  const info = useFactory();
  return (
    <div className="floor-labels" aria-hidden="true">
      {info.layout.machines.map((m) => (
        <MachineLabel key={m.id} machine={m} labels={labels} selected={m.id === selected} />
      ))}
    </div>
  );
}

function Legend() {
  return (
    <div className="floor-overlay">
      <div className="card">
        <div className="legend">
          {STATUSES.map((s) => (
            <span key={s}>
              <span className="dot" style={{ background: STATUS_COLOR[s] }} />
              {s}
            </span>
          ))}
        </div>
        <div className="legend" style={{ marginTop: 6 }}>
          <span>
            <span
              className="dot"
              style={{
                background: `linear-gradient(90deg, ${healthColor(0)}, ${healthColor(100)})`,
                width: 26,
                borderRadius: 4,
              }}
            />
            floor ring: health
          </span>
          <span>
            <span className="dot" style={{ background: SEVERITY_COLOR.critical }} />
            beacon: alarm
          </span>
          <span className="faint">drag: orbit · right-drag: pan · wheel: zoom</span>
        </div>
      </div>
    </div>
  );
}

export function FloorView({ selected, onSelect }: { selected: string | null; onSelect: (id: string | null) => void }) {
  const info = useFactory();
  const conn = useTwin((s) => s.connection);
  const { stale, asOf } = useStaleness();
  const [labels] = useState(() => new LabelRegistry());
  const refused = refusal(useSession(), "engineer");
  const edit = useFloorEdit(info.layout, onSelect);
  const shown = useMemo(() => ({ ...info.layout, machines: edit.machines }), [info.layout, edit.machines]);
  const editing = edit.on && selected ? shown.machines.find((m) => m.id === selected) : undefined;
  // Escape closes the machine panel.
  useEffect(() => {
    if (!selected) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === "Escape") onSelect(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [selected, onSelect]);
  return (
    <div className="floor" data-testid="floor">
      <div className="floor-stage" onPointerLeave={() => hoverStore.set(null)}>
        <Canvas
          camera={{ position: [0, 27, 31], fov: 45, near: 0.5, far: 400 }}
          dpr={QUALITY.startDpr}
          gl={{ antialias: !QUALITY.software, powerPreference: "high-performance" }}
          data-testid="floor-canvas"
        >
          <FactoryScene
            layout={shown}
            edit={edit.canvas}
            selected={selected}
            onSelect={onSelect}
            dprPolicy={QUALITY.policy}
            labels={labels}
          />
        </Canvas>
        <MachineLabels labels={labels} selected={selected} />
        <div className="floor-title">
          <div className="card">
            <span>
              <b>{info.layout.machines.length}</b> <span className="muted">machines</span>
            </span>
            <span>
              <b>{info.layout.lines.length}</b> <span className="muted">lines</span>
            </span>
            <span className="muted">
              {info.layout.floor_width} × {info.layout.floor_depth} m
            </span>
            {conn !== "open" && (
              <span style={{ color: "#fde68a" }}>
                stream {conn}…{stale && asOf !== null && ` floor as of ${formatClock(asOf)}`}
              </span>
            )}
          </div>
        </div>
        <Legend />
        <EditBar edit={edit} layout={info.layout} refused={refused} />
        {editing && (
          <MachineEditPanel key={JSON.stringify(editing)} machine={editing} edit={edit} layout={info.layout} />
        )}
      </div>
      <Tooltip />
      {selected && info.byId[selected] && (
        <MachinePanel key={selected} machine={info.byId[selected]} onClose={() => onSelect(null)} />
      )}
    </div>
  );
}
