"""Export tables: raw history reads only where the machine has readings, however long the range asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest

from factorytwin.domain import Machine
from factorytwin.export import tables
from factorytwin.layout import load_layout
from factorytwin.store import ReadingColumns, Store, open_store
from tests.integration.store.rows import T0, T0_MS, columns


class CountingStore:
    """A real SQLite store that counts the window reads of ``read_range``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reads = 0

    async def reading_span(self, machine_id: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        return await self.store.reading_span(machine_id, start, end)

    async def read_range(
        self, machine_id: str, start: datetime, end: datetime, sensors: Sequence[str] | None = None
    ) -> ReadingColumns:
        self.reads += 1
        return await self.store.read_range(machine_id, start, end, sensors)


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    st = open_store(sqlite_url)
    await st.open()
    machines: list[Machine] = list(load_layout().machines)
    await st.register_machines(machines)
    try:
        yield st
    finally:
        await st.close()


async def test_a_range_of_millennia_reads_a_few_windows_not_one_per_month(store: Store) -> None:
    await store.write_batch(columns([("mill-01", "torque", T0_MS, 1.0), ("mill-01", "torque", T0_MS + 7_200_000, 2.0)]))
    counting = CountingStore(store)
    far = timedelta(days=365_000)
    chunks = [c async for c in tables.raw_history(counting, ["mill-01", "lathe-01"], T0 - far, T0 + far, None)]  # type: ignore[arg-type]
    rows = [r for c in chunks for r in c]
    assert [(r[0], r[2], r[3]) for r in rows] == [("mill-01", "torque", 1.0), ("mill-01", "torque", 2.0)]
    assert counting.reads <= 3  # the two hours with readings; a thousand years of months would be 12,000 reads
