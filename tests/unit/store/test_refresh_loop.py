"""The background rollup refresh tells a store outage once when it starts and once when it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from factorytwin.errors import StoreUnavailable
from factorytwin.store import rollup
from factorytwin.store.common import StoreCommon


class FlakyStore(StoreCommon):
    """Refresh fails (store unavailable) on calls 2-4, works otherwise; sets ``done`` after call 6."""

    def __init__(self) -> None:
        self.calls = 0
        self.done = asyncio.Event()

    async def refresh_rollups(self, before_minute: int | None = None) -> int:
        self.calls += 1
        if self.calls >= 6:
            self.done.set()
        if 2 <= self.calls <= 4:
            raise StoreUnavailable("the database is unavailable: connection refused")
        return 0


async def test_an_outage_is_logged_once_without_a_traceback_and_its_end_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rollup, "REFRESH_INTERVAL_S", 0.0)
    store = FlakyStore()
    with caplog.at_level(logging.INFO, logger="factorytwin.store.common"):
        task = asyncio.create_task(store._refresh_loop())
        await store.done.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    records = [r for r in caplog.records if r.name == "factorytwin.store.common"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO]
    assert "connection refused" in records[0].getMessage()
    assert all(r.exc_info is None for r in records)
