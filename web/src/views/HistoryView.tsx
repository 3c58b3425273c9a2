// History: pick a machine, sensors and a range; the server returns bucketed min/max/avg, drawn as a band.
// Dragging across a chart zooms in (and asks the server for finer buckets); double-click goes back. The machine's
// faults, repairs, maintenance, work orders, commands and alarms are markers on every chart (toggleable). Sensors of
// other machines can be added; the series share one chart with an axis per unit, or normalised to their normal
// bands (CombinedChart). The whole view lives in the URL (historyState.ts), and can be saved by name (SavedViews).

import { useMemo, useState } from "react";
import { api } from "../api/client";
import { countByKind, markersOf, type MarkerKind } from "../annotations";
import type { ChartLine } from "../chartLines";
import { normalBand } from "../chartLines";
import { CombinedChart } from "../components/CombinedChart";
import { HistoryChart } from "../components/HistoryChart";
import { MarkerBar } from "../components/MarkerBar";
import { SavedViews } from "../components/SavedViews";
import { SeriesPicker } from "../components/SeriesPicker";
import { sensorsOf, useFactory } from "../context";
import { historyExportQuery } from "../exports";
import { fromLocalInput, machineTimeNote, RANGE_LABEL, toLocalInput } from "../history";
import {
  type ChartMode,
  type HistoryRange,
  type HistoryState,
  type RelativeKey,
  type SeriesRef,
  seriesId,
} from "../historyState";
import { boundsOf, useHistoryData } from "../hooks/useHistoryData";
import { routeHash } from "../route";

const COLORS = ["#38bdf8", "#f59e0b", "#a78bfa", "#22c55e", "#f472b6", "#fb7185", "#2dd4bf", "#facc15"];
const PRESETS: RelativeKey[] = ["15m", "1h", "6h", "24h", "7d"];
const MODES: { mode: ChartMode; label: string; testId: string; title: string }[] = [
  { mode: "separate", label: "Separate", testId: "history-mode-separate", title: "a chart per series" },
  { mode: "axes", label: "One chart", testId: "history-combine", title: "the series on one chart, an axis per unit" },
  {
    mode: "normal",
    label: "Normalised",
    testId: "history-mode-normal",
    title: "the series on one 0–1 axis: 0 is each machine's normal low, 1 its normal high",
  },
];

export function HistoryView({
  machine,
  state,
  onChange,
}: {
  machine: string | null;
  state: HistoryState;
  /** A new view: `push` for a change worth a browser-history entry (another machine), else it replaces. */
  onChange: (machine: string, state: HistoryState, push?: boolean) => void;
}) {
  const info = useFactory();
  const scale = info.plant.time_scale;
  const machineId = machine && info.byId[machine] ? machine : (info.layout.machines[0]?.id ?? "");
  const specs = useMemo(() => sensorsOf(info, machineId), [info, machineId]);
  // The sensors shown: those the URL names (of this machine's kind), else two of the kind's first three.
  const picked = useMemo(() => {
    if (state.sensors !== null) return state.sensors.filter((k) => specs.some((s) => s.key === k));
    return specs
      .slice(0, 3)
      .map((s) => s.key)
      .filter((k) => k !== "air_temp")
      .slice(0, 2);
  }, [specs, state.sensors]);
  const set = (patch: Partial<HistoryState>): void => onChange(machineId, { ...state, ...patch });
  const [stack, setStack] = useState<HistoryRange[]>([]);

  // Every series drawn: the machine's picked sensors, then the other machines' ones the plant still has. Memoised
  // on their ids: a re-parsed URL makes equal arrays anew.
  const pickedKey = picked.join(",");
  const extraKey = state.extra.map(seriesId).join(",");
  const refs: SeriesRef[] = useMemo(() => {
    const own = (pickedKey ? pickedKey.split(",") : []).map((sensor) => ({ machine: machineId, sensor }));
    const ownIds = new Set(own.map(seriesId));
    const others = (extraKey ? extraKey.split(",") : []).flatMap((id) => {
      const at = id.lastIndexOf(":");
      const ref = { machine: id.slice(0, at), sensor: id.slice(at + 1) };
      return !ownIds.has(id) && sensorsOf(info, ref.machine).some((s) => s.key === ref.sensor) ? [ref] : [];
    });
    return [...own, ...others];
  }, [info, machineId, pickedKey, extraKey]);
  const data = useHistoryData(machineId, refs, state.range, scale);
  const lines: ChartLine[] = useMemo(
    () =>
      refs.flatMap((r, i) => {
        const spec = sensorsOf(info, r.machine).find((s) => s.key === r.sensor);
        if (!spec) return [];
        const id = seriesId(r);
        const band = normalBand(spec, info.byId[r.machine]);
        const color = COLORS[i % COLORS.length] ?? "#38bdf8";
        return [{ id, machine: r.machine, spec, band, color, series: data.series[id] ?? null }];
      }),
    [refs, info, data.series],
  );

  const allMarkers = useMemo(
    () => (data.log ? markersOf(data.log.events, data.log.alarms, data.log.from, data.log.to) : []),
    [data.log],
  );
  const counts = useMemo(() => countByKind(allMarkers), [allMarkers]);
  const markers = useMemo(() => allMarkers.filter((mk) => !state.hidden.includes(mk.kind)), [allMarkers, state.hidden]);
  const toggleMarker = (kind: MarkerKind): void =>
    set({ hidden: state.hidden.includes(kind) ? state.hidden.filter((k) => k !== kind) : [...state.hidden, kind] });
  const toggleSensor = (key: string): void =>
    set({ sensors: picked.includes(key) ? picked.filter((k) => k !== key) : [...picked, key] });

  const range = state.range;
  const [from, to] = boundsOf(range, scale);
  const choose = (key: RelativeKey | "custom"): void => {
    setStack([]);
    set({ range: key === "custom" ? { kind: "absolute", from, to } : { kind: "relative", key } });
  };
  const setEnd = (end: "from" | "to", value: string): void => {
    const at = fromLocalInput(value);
    const next = end === "from" ? { from: at ?? from, to } : { from, to: at ?? to };
    if (at && next.from.getTime() < next.to.getTime()) set({ range: { kind: "absolute", ...next } });
  };
  const zoomTo = (a: Date, b: Date): void => {
    setStack((s) => [...s, range]);
    set({ range: { kind: "absolute", from: a, to: b } });
  };
  const back = (): void => {
    const prev = stack[stack.length - 1];
    setStack((s) => s.slice(0, -1));
    if (prev) set({ range: prev });
  };
  const note = range.kind === "relative" ? machineTimeNote(range.key, scale) : null;
  const hash = routeHash({ view: "history", machine: machineId, history: state });

  return (
    <div className="scroll" data-testid="history">
      <div className="card" style={{ marginBottom: 14 }}>
        <div className="hist-controls">
          <select
            value={machineId}
            onChange={(e) => onChange(e.target.value, { ...state, sensors: null }, true)}
            data-testid="history-machine"
          >
            {info.layout.lines.map((l) => (
              <optgroup key={l.id} label={l.name}>
                {info.layout.machines
                  .filter((x) => x.line === l.id)
                  .map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.name} ({x.id})
                    </option>
                  ))}
              </optgroup>
            ))}
          </select>
          <div className="seg" data-testid="history-range">
            {PRESETS.map((k) => (
              <button
                key={k}
                className={range.kind === "relative" && range.key === k ? "on" : ""}
                onClick={() => choose(k)}
              >
                {RANGE_LABEL[k]}
              </button>
            ))}
            <button className={range.kind === "absolute" ? "on" : ""} onClick={() => choose("custom")}>
              Custom
            </button>
          </div>
          {range.kind === "absolute" && (
            <>
              <input
                type="datetime-local"
                value={toLocalInput(from)}
                onChange={(e) => setEnd("from", e.target.value)}
              />
              <span className="muted">to</span>
              <input type="datetime-local" value={toLocalInput(to)} onChange={(e) => setEnd("to", e.target.value)} />
            </>
          )}
          {stack.length > 0 && (
            <button className="btn sm" onClick={back}>
              ⤺ Zoom out
            </button>
          )}
          <span className="faint">drag on a chart to zoom · double-click to go back</span>
          {note && (
            <span className="pill time-scale" data-testid="history-machine-time">
              {note}
            </span>
          )}
        </div>
        <div className="hist-controls" style={{ paddingTop: 0 }}>
          {specs.map((s) => (
            <span
              key={s.key}
              className={`chip${picked.includes(s.key) ? " on" : ""}`}
              onClick={() => toggleSensor(s.key)}
              data-testid={`history-sensor-${s.key}`}
            >
              {s.label}
            </span>
          ))}
          <div className="seg" data-testid="history-mode" data-mode={state.mode}>
            {MODES.map((m) => (
              <button
                key={m.mode}
                className={state.mode === m.mode ? "on" : ""}
                onClick={() => set({ mode: m.mode })}
                data-testid={m.testId}
                title={m.title}
              >
                {m.label}
              </button>
            ))}
          </div>
        </div>
        <SeriesPicker primary={machineId} extra={state.extra} onChange={(extra) => set({ extra })} />
        <MarkerBar shown={markers} counts={counts} hidden={state.hidden} onToggle={toggleMarker} />
        <div className="hist-controls" style={{ paddingTop: 0 }}>
          <a
            className="btn sm"
            href={api.historyExportHref(historyExportQuery(machineId, picked, from, to))}
            download
            title="The raw readings of this machine's sensors shown, over the chart's range, as CSV"
            data-testid="history-csv"
          >
            CSV
          </a>
        </div>
        <SavedViews hash={hash} />
      </div>
      {data.error && (
        <div className="card empty" style={{ color: "#fca5a5", marginBottom: 14 }}>
          Could not load history: {data.error}
        </div>
      )}
      {state.mode !== "separate" && lines.length > 0 ? (
        <CombinedChart
          lines={lines}
          normalised={state.mode === "normal"}
          markers={markers}
          onZoom={zoomTo}
          onReset={back}
        />
      ) : (
        <div className="grid">
          {lines.map((l) =>
            l.machine === machineId ? (
              <HistoryChart
                key={l.id}
                testId={`history-chart-${l.spec.key}`}
                series={l.series}
                spec={l.spec}
                color={l.color}
                markers={markers}
                onZoom={zoomTo}
                onReset={back}
              />
            ) : (
              <HistoryChart
                key={l.id}
                title={`${l.machine} · ${l.spec.label}`}
                testId={`history-chart-${l.id}`}
                series={l.series}
                spec={l.spec}
                color={l.color}
                markers={[]}
                onZoom={zoomTo}
                onReset={back}
              />
            ),
          )}
        </div>
      )}
    </div>
  );
}
