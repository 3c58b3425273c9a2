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


WORK_ORDER_DONE = "work_order"
"""``data.reason`` of the maintenance event a work order writes when it is done (``workorders/service.py``)."""


def event_tuples(events: Sequence[Event]) -> list[tuple[str, int, str, str]]:
    """Store events as ``(machine_id, ts ms, event, mode)`` in the simulator's event-log vocabulary, one per
    machine, instant and kind, ordered by machine and time (ties keep their stored order).

    A fault event (or a status change to failed) is a ``failure``; a maintenance event (or status maintenance)
    is ``maintenance``, or ``repair`` when its data says so; other status changes are kept as ``status`` (they end a
    maintenance, which tells a quick tool change from a renewal). A finished work order (the ``maintenance`` event
    without a status that ``done`` writes, ``data.reason = "work_order"``) is a ``repair``: it says the job is over
    at its instant, so it renews the machine then, as a repair does, whatever comes after it. Other events do not
    matter to the models. A fault and the status change it causes are one failure (the one that names the mode is
    kept).
    """
    rows: dict[tuple[str, int, str], tuple[int, str]] = {}
    ordered = sorted(events, key=lambda ev: (ev.ts, ev.id if ev.id is not None else 0))
    for order, ev in enumerate(ordered):
        kind: str | None = None
        tagged = str(ev.data.get("event", ""))
        if tagged in {"failure", "repair", "maintenance"}:
            kind = tagged
        elif ev.kind is EventKind.FAULT or (ev.kind is EventKind.STATUS and ev.status is MachineStatus.FAILED):
            kind = "failure"
        elif ev.kind is EventKind.MAINTENANCE and ev.status is None and ev.data.get("reason") == WORK_ORDER_DONE:
            kind = "repair"  # a job done at this instant (not begun): the machine is renewed now, however long it took
        elif ev.kind is EventKind.MAINTENANCE or (
            ev.kind is EventKind.STATUS and ev.status is MachineStatus.MAINTENANCE
        ):
            kind = "maintenance"
        elif ev.kind is EventKind.STATUS:
            kind = "status"  # the return to service that tells how long a maintenance lasted
        if kind is None:
            continue
        key = (ev.machine_id, int(ev.ts.timestamp() * 1000), kind)
        mode = str(ev.data.get("mode", "") or "")
        if key not in rows or (mode and not rows[key][1]):
            rows[key] = (rows[key][0] if key in rows else order, mode)
    keyed = sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[1][0]))
    return [(mid, ts, kind, mode) for (mid, ts, kind), (_, mode) in keyed]


def event_rows(events: Sequence[Event]) -> pd.DataFrame:
    """``event_tuples`` as a frame (``machine_id, ts`` ms, ``event``, ``mode``): the form training reads."""
    frame = pd.DataFrame(event_tuples(events), columns=["machine_id", "ts", "event", "mode"])
    return frame.astype({"ts": "int64"})


STATUS_KINDS = (EventKind.STATUS, EventKind.FAULT, EventKind.MAINTENANCE, EventKind.COMMAND)
"""Event kinds that carry the machine's status (the simulator and gateways stamp every one of them with it)."""


def status_timeline(events: Sequence[Event]) -> tuple[np.ndarray, np.ndarray]:
    """(times in ms, statuses) of the events that state a status, oldest first (ties in the order they were
    stored): the machine's status from each time until the next."""
    stated = [ev for ev in events if ev.status is not None]
    stated.sort(key=lambda ev: (ev.ts, ev.id if ev.id is not None else 0))
    ts = np.array([int(ev.ts.timestamp() * 1000) for ev in stated], dtype="int64")
    status = np.array([ev.status.value for ev in stated if ev.status is not None], dtype=object)
    return ts, status


def status_at(ts_ms: np.ndarray, timeline: tuple[np.ndarray, np.ndarray], default: str = "") -> np.ndarray:
    """The status in force at each of ``ts_ms``: that of the last status event at or before it (an event and a
    reading of the same instant: the reading was taken under the event's status); ``default`` before the first."""
    times, statuses = timeline
    k = np.searchsorted(times, np.asarray(ts_ms, dtype="int64"), side="right") - 1
    out = np.full(len(k), default, dtype=object)
    out[k >= 0] = statuses[k[k >= 0]]
    return out
