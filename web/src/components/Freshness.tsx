// How old what the screen shows is: a machine's last reading (a warning past the offline threshold), and the
// age tag of a live value while the stream is down.

import type { MachineState } from "../api/types";
import { formatAgeS, formatClock } from "../format";
import { useReadingAge, useStaleness } from "../hooks/useStaleness";

/** "last reading n s ago", a warning once it is past the offline threshold. */
export function LastReading({ state, testId = "last-reading" }: { state: MachineState | undefined; testId?: string }) {
  const { ageS, freshness } = useReadingAge(state);
  return (
    <span
      className={freshness === "late" ? "warn-text" : "faint"}
      data-testid={testId}
      data-freshness={freshness}
      title={freshness === "late" ? "no reading for longer than the twin's offline threshold" : undefined}
    >
      {freshness === "late" && "⚠ "}
      {ageS === null ? "no reading yet" : `last reading ${formatAgeS(ageS)}`}
    </span>
  );
}

/** Next to a live value while the stream is down: "stale · 42 s" (nothing while it is live). */
export function StaleTag() {
  const { stale, asOf, ageS } = useStaleness();
  if (!stale || asOf === null || ageS === null) return null;
  return (
    <span className="stale-tag" data-testid="stale-tag" title={`as of ${formatClock(asOf)}`}>
      stale · {formatAgeS(ageS).replace(" ago", "")}
    </span>
  );
}
