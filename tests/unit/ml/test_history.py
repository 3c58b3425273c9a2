"""Store rows to ML frames: long readings pivot to wide, events map to failure/maintenance/status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from factorytwin.domain import Event, EventKind, MachineStatus
from factorytwin.ml.history import event_rows, wide_from_columns
from factorytwin.ml.latest import arrays_from_columns
from factorytwin.ml.timeseries import renewals_only
from factorytwin.store.base import ReadingColumns

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_long_readings_become_one_row_per_instant() -> None:
    cols = ReadingColumns(["m", "m", "m"], ["torque", "tool_wear", "torque"], [1000, 1000, 2000], [40.0, 10.0, 41.0])
    wide = wide_from_columns(cols)
    assert wide["ts"].tolist() == [1000, 2000]
    assert wide["torque"].tolist() == [40.0, 41.0]
    assert np.isnan(wide["tool_wear"].iloc[1])
    ts, values = arrays_from_columns(cols)
    assert ts.tolist() == [1000, 2000]
    np.testing.assert_array_equal(values["tool_wear"], [10.0, np.nan])


def test_a_quick_tool_change_is_not_a_renewal_but_a_long_maintenance_is() -> None:
    def ev(minutes: float, kind: EventKind, status: MachineStatus | None, **data: str) -> Event:
        return Event(machine_id="m", ts=T0 + timedelta(minutes=minutes), kind=kind, status=status, data=data)

    events = event_rows(
        [
            ev(0, EventKind.STATUS, MachineStatus.MAINTENANCE),
            ev(10, EventKind.STATUS, MachineStatus.RUNNING),
            ev(100, EventKind.FAULT, MachineStatus.FAILED, mode="tool_wear"),
            ev(100, EventKind.STATUS, MachineStatus.FAILED),
            ev(160, EventKind.MAINTENANCE, MachineStatus.RUNNING, event="repair"),
            ev(300, EventKind.MAINTENANCE, None),
            ev(540, EventKind.STATUS, MachineStatus.RUNNING),
        ]
    )
    assert events["event"].tolist() == ["maintenance", "status", "failure", "repair", "maintenance", "status"]
    assert events.loc[events["event"] == "failure", "mode"].tolist() == ["tool_wear"]
    renewals = renewals_only(events)
    assert renewals["event"].tolist() == ["repair", "maintenance"]
    assert isinstance(renewals, pd.DataFrame)
