"""Alarms survive a store outage: kept in memory, told once, saved when the store is back; an alarm the store
refuses for its content does not hold back the others."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from factorytwin.config import Settings
from factorytwin.domain import Alarm
from factorytwin.errors import StoreRejected, StoreUnavailable
from factorytwin.store.base import AlarmQuery
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.twin import service as service_module
from factorytwin.twin.bus import InProcessBus
from factorytwin.twin.service import TwinService
from tests.unit.twin.helpers import IMMEDIATE, batch, machine, reading


class FlakyStore(SQLiteStore):
    """A SQLite store whose ``save_alarm`` first fails ``outages`` times as an outage, and refuses alarms of the
    types in ``refused`` for their content."""

    def __init__(self, path: Path, outages: int, refused: frozenset[str] = frozenset()) -> None:
        super().__init__(path)
        self.outages = outages
        self.refused = refused

    async def save_alarm(self, alarm: Alarm) -> Alarm:
        if self.outages > 0:
            self.outages -= 1
            raise StoreUnavailable("database is locked")
        if alarm.type in self.refused:
            raise StoreRejected("text the store cannot hold")
        return await super().save_alarm(alarm)


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "SAVE_RETRY_S", 0.0)


async def started(store: SQLiteStore) -> AsyncIterator[TwinService]:
    await store.open()
    await store.register_machines([machine()])
    twin = TwinService(Settings(database_url="sqlite:///unused.db", **IMMEDIATE), store, InProcessBus())
    await twin.start()
    try:
        yield twin
    finally:
        await twin.stop()
        await store.close()


async def test_alarms_raised_during_an_outage_are_saved_when_the_store_is_back_and_it_is_told_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore(tmp_path / "twin.db", outages=5)
    async for twin in started(store):
        with caplog.at_level(logging.WARNING, logger=service_module.__name__):
            await twin.on_ingested(batch(reading(0, process_temp=320.0, vibration=9.0)), new_readings=8)
            await twin.idle()
        stored = await store.alarms(AlarmQuery())
        assert sorted(a.type for a in stored) == ["high:process_temp", "high:vibration"]
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 2, warnings  # the outage once, its end once: not one line per retry
        assert "store unavailable" in warnings[0]
        assert "store back" in warnings[1]
        assert not [r for r in caplog.records if r.exc_info]


async def test_an_alarm_the_store_refuses_does_not_hold_back_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore(tmp_path / "twin.db", outages=0, refused=frozenset({"high:process_temp"}))
    async for twin in started(store):
        with caplog.at_level(logging.ERROR, logger=service_module.__name__):
            await twin.on_ingested(batch(reading(0, process_temp=320.0, vibration=9.0)), new_readings=8)
            await twin.idle()
        assert [a.type for a in await store.alarms(AlarmQuery())] == ["high:vibration"]
        assert sorted(a.type for a in twin.alarms.alarms()) == ["high:process_temp", "high:vibration"]
        assert any("cannot be stored" in r.getMessage() for r in caplog.records)
