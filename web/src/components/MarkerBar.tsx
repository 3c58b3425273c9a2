// The History view's marker toggles (a chip per kind with its count in the range) and the list of what the shown
// markers are.

import { type Marker, MARKER_COLOR, MARKER_KINDS, MARKER_LABEL, type MarkerKind } from "../annotations";
import { formatClock, formatDay } from "../format";

export function MarkerBar({
  shown,
  counts,
  hidden,
  onToggle,
}: {
  /** The markers drawn (of the kinds not hidden). */
  shown: readonly Marker[];
  counts: Record<MarkerKind, number>;
  hidden: readonly MarkerKind[];
  onToggle: (kind: MarkerKind) => void;
}) {
  return (
    <>
      <div className="hist-controls" style={{ paddingTop: 0 }} data-testid="history-markers" data-count={shown.length}>
        <span className="faint">Markers:</span>
        {MARKER_KINDS.map((k) => (
          <span
            key={k}
            className={`chip${hidden.includes(k) ? "" : " on"}`}
            onClick={() => onToggle(k)}
            data-testid={`history-marker-${k}`}
            data-count={counts[k]}
          >
            <span className="dot" style={{ background: MARKER_COLOR[k] }} /> {MARKER_LABEL[k]} ({counts[k]})
          </span>
        ))}
      </div>
      {shown.length > 0 && (
        <details className="hist-controls" style={{ paddingTop: 0 }}>
          <summary className="faint">What the markers are ({shown.length})</summary>
          <ul className="marker-list" data-testid="history-marker-list">
            {shown
              .slice(-50)
              .reverse()
              .map((mk, i) => (
                <li key={i} data-kind={mk.kind}>
                  <span className="dot" style={{ background: MARKER_COLOR[mk.kind] }} /> {formatDay(mk.t * 1000)}{" "}
                  {formatClock(mk.t * 1000)} — {mk.text}
                </li>
              ))}
          </ul>
        </details>
      )}
    </>
  );
}
