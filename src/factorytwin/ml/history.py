"""Bridges between the store's long-form readings/events and the wide frames the ML pipeline uses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.store.base import ReadingColumns


def wide_from_columns(cols: ReadingColumns) -> pd.DataFrame:
    """Long readings (machine, sensor, ts ms, value) as a wide frame: ``machine_id, ts`` and one column per sensor."""
    if not len(cols):
        return pd.DataFrame({"machine_id": pd.Series(dtype="object"), "ts": pd.Series(dtype="int64")})
    long = pd.DataFrame(
        {
            "machine_id": cols.machine_ids,
            "sensor": cols.sensors,
            "ts": np.asarray(cols.ts_ms, dtype="int64"),
            "value": np.asarray(cols.values, dtype="float64"),
        }
    )
    wide = long.pivot_table(index=["machine_id", "ts"], columns="sensor", values="value", aggfunc="last")
    wide.columns.name = None
    return wide.reset_index()


def event_rows(events: Sequence[Event]) -> pd.DataFrame:
    """Store events in the simulator's event-log form (``machine_id, ts`` ms, ``event``, ``mode``).

    A fault event (or a status change to failed) is a ``failure``; a maintenance event (or status maintenance)
    is ``maintenance``, or ``repair`` when its data says so; other status changes are kept as ``status`` (they end a
    maintenance, which tells a quick tool change from a renewal). Other events do not matter to the models.
    """
    rows: list[dict[str, object]] = []
    for ev in events:
        kind: str | None = None
        tagged = str(ev.data.get("event", ""))
        if tagged in {"failure", "repair", "maintenance"}:
            kind = tagged
        elif ev.kind is EventKind.FAULT or (ev.kind is EventKind.STATUS and ev.status is MachineStatus.FAILED):
            kind = "failure"
        elif ev.kind is EventKind.MAINTENANCE or (
            ev.kind is EventKind.STATUS and ev.status is MachineStatus.MAINTENANCE
        ):
            kind = "maintenance"
        elif ev.kind is EventKind.STATUS:
            kind = "status"  # the return to service that tells how long a maintenance lasted
        if kind is None:
            continue
        rows.append(
            {
                "machine_id": ev.machine_id,
                "ts": int(ev.ts.timestamp() * 1000),
                "event": kind,
                "mode": str(ev.data.get("mode", "") or ""),
            }
        )
    frame = pd.DataFrame(rows, columns=["machine_id", "ts", "event", "mode"])
    # A fault and the status change it causes are one failure: keep one per machine, instant and kind.
    frame = frame.sort_values("mode", ascending=False).drop_duplicates(subset=["machine_id", "ts", "event"])
    return frame.sort_values(["machine_id", "ts"]).reset_index(drop=True).astype({"ts": "int64"})
