// Series of other machines for the History view: pick a machine and one of its sensors, add it; each added series
// is a chip "machine · sensor (unit)" that removes it. A series whose machine or sensor the plant no longer has
// stays in the list (it came from a link) but is marked and left off the charts.

import { useState } from "react";
import { sensorsOf, useFactory } from "../context";
import { formatUnit } from "../format";
import { MAX_EXTRA_SERIES, type SeriesRef, seriesId } from "../historyState";

export function SeriesPicker({
  primary,
  extra,
  onChange,
}: {
  primary: string;
  extra: readonly SeriesRef[];
  onChange: (extra: SeriesRef[]) => void;
}) {
  const info = useFactory();
  const others = info.layout.machines.filter((m) => m.id !== primary);
  const [machine, setMachine] = useState("");
  const chosen = others.some((m) => m.id === machine) ? machine : (others[0]?.id ?? "");
  const specs = sensorsOf(info, chosen);
  const [sensor, setSensor] = useState("");
  const key = specs.some((s) => s.key === sensor) ? sensor : (specs[0]?.key ?? "");
  const ids = new Set(extra.map(seriesId));
  const full = extra.length >= MAX_EXTRA_SERIES;
  const taken = ids.has(seriesId({ machine: chosen, sensor: key }));
  return (
    <div className="hist-controls" style={{ paddingTop: 0 }} data-testid="history-series-picker">
      <span className="faint">Other machines:</span>
      <select value={chosen} onChange={(e) => setMachine(e.target.value)} data-testid="history-add-machine">
        {others.map((m) => (
          <option key={m.id} value={m.id}>
            {m.id}
          </option>
        ))}
      </select>
      <select value={key} onChange={(e) => setSensor(e.target.value)} data-testid="history-add-sensor">
        {specs.map((s) => (
          <option key={s.key} value={s.key}>
            {s.label} ({formatUnit(s.unit)})
          </option>
        ))}
      </select>
      <button
        className="btn sm"
        disabled={!chosen || !key || full || taken}
        title={full ? `at most ${MAX_EXTRA_SERIES} series of other machines` : taken ? "already shown" : undefined}
        onClick={() => onChange([...extra, { machine: chosen, sensor: key }])}
        data-testid="history-add"
      >
        + Add series
      </button>
      {extra.map((ref) => {
        const spec = sensorsOf(info, ref.machine).find((s) => s.key === ref.sensor);
        const id = seriesId(ref);
        return (
          <span
            key={id}
            className={`chip on${spec ? "" : " missing"}`}
            data-testid={`history-extra-${id}`}
            title={spec ? "remove this series" : "the plant has no such machine or sensor: not drawn"}
            onClick={() => onChange(extra.filter((x) => seriesId(x) !== id))}
          >
            {ref.machine} · {spec ? `${spec.label} (${formatUnit(spec.unit)})` : `${ref.sensor} (not found)`} ×
          </span>
        );
      })}
    </div>
  );
}
