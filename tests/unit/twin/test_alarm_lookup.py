"""Acknowledging or clearing an alarm the twin does not hold in memory: one read of the store by id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from factorytwin.config import Settings
from factorytwin.domain import Alarm, AlarmSeverity, AlarmState
from factorytwin.errors import InvalidInput, NotFound
from factorytwin.store.base import AlarmQuery
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.twin import service as service_module
from factorytwin.twin.bus import InProcessBus
from factorytwin.twin.service import MAX_ALARMS_LOADED, TwinService
from tests.unit.twin.helpers import T0, machine


class CountingStore(SQLiteStore):
    """A SQLite store that counts its alarm list reads and by-id look-ups."""

    list_reads: list[AlarmQuery]
    by_id: list[int]

    async def alarms(self, query: AlarmQuery) -> list[Alarm]:
        self.list_reads.append(query)
        return await super().alarms(query)

    async def alarm(self, alarm_id: int) -> Alarm | None:
        self.by_id.append(alarm_id)
        return await super().alarm(alarm_id)


def _alarm(state: AlarmState, type_: str = "high:torque") -> Alarm:
    return Alarm(
        machine_id="mill-01",
        type=type_,
        severity=AlarmSeverity.MAJOR,
        state=state,
        message="torque high",
        raised_at=T0,
        updated_at=T0,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    st = CountingStore(tmp_path / "twin.db")
    st.list_reads, st.by_id = [], []
    await st.open()
    await st.register_machines([machine()])
    yield st
    await st.close()


@pytest.fixture
async def twin(store: CountingStore) -> AsyncIterator[TwinService]:
    service = TwinService(Settings(database_url="sqlite:///unused.db"), store, InProcessBus())
    await service.start()
    yield service
    await service.stop()


async def test_an_old_cleared_alarm_is_acknowledged_through_one_read_by_id(
    twin: TwinService, store: CountingStore
) -> None:
    saved = await store.save_alarm(_alarm(AlarmState.CLEARED_UNACK))  # not in the twin's memory
    assert saved.id is not None
    store.list_reads.clear()
    acked = await twin.acknowledge(saved.id, "ana")
    assert acked.state is AlarmState.CLEARED_ACK
    assert acked.acked_by == "ana"
    assert store.by_id == [saved.id]
    assert store.list_reads == []  # no scan of up to 10,000 alarms
    stored = await store.alarm(saved.id)
    assert stored is not None
    assert (stored.state, stored.acked_by) == (AlarmState.CLEARED_ACK, "ana")  # saved (times to the millisecond)


async def test_an_unknown_alarm_id_is_not_found(twin: TwinService, store: CountingStore) -> None:
    with pytest.raises(NotFound):
        await twin.clear(424242, "ana")
    with pytest.raises(NotFound):
        await twin.acknowledge(2**80, "ana")  # an id no backend could hold is simply not there


async def test_active_alarms_are_loaded_page_by_page_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "MAX_LIST_LIMIT", 10)  # pages of 10 instead of 1000: 25 alarms, 3 pages
    st = CountingStore(tmp_path / "many.db")
    st.list_reads, st.by_id = [], []
    await st.open()
    await st.register_machines([machine()])
    for i in range(25):
        await st.save_alarm(_alarm(AlarmState.ACTIVE_UNACK, f"rule:{i}"))
    twin = TwinService(Settings(database_url="sqlite:///unused.db"), st, InProcessBus())
    await twin.start()
    try:
        assert sum(len(by_type) for by_type in twin.alarms.active.values()) == 25
        assert [q.limit for q in st.list_reads] == [10, 10, 10]
        assert MAX_ALARMS_LOADED >= 25
    finally:
        await twin.stop()
        await st.close()


async def test_a_name_no_store_can_hold_is_refused_before_the_alarm_changes(
    twin: TwinService, store: CountingStore
) -> None:
    saved = await store.save_alarm(_alarm(AlarmState.CLEARED_UNACK))
    assert saved.id is not None
    with pytest.raises(InvalidInput) as caught:
        await twin.acknowledge(saved.id, "ana\x00")
    assert caught.value.problems[0].loc == ("body", "by")
    with pytest.raises(InvalidInput):
        await twin.clear(saved.id, "\ud800")
    stored = await store.alarm(saved.id)
    assert stored is not None
    assert stored.state is AlarmState.CLEARED_UNACK
    assert stored.acked_by is None
