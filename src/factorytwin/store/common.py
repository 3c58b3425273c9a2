"""What both backends do the same way, on top of their own ``write_batches`` and ``refresh_rollups``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from factorytwin.domain import Event
from factorytwin.errors import StoreUnavailable
from factorytwin.store import rollup
from factorytwin.store.base import Batch, ReadingColumns

log = logging.getLogger(__name__)


class StoreCommon:
    """Base of ``SQLiteStore`` and ``PostgresStore``: single-batch writes and the background rollup refresh."""

    async def write_batches(self, batches: Sequence[Batch]) -> list[int | Exception]:
        """Store batches in one transaction, each all-or-nothing; per batch: new count or error."""
        raise NotImplementedError

    async def refresh_rollups(self, before_minute: int | None = None) -> int:
        """Recompute dirty closed minutes of the rollup; return how many."""
        raise NotImplementedError

    async def write_batch(self, readings: ReadingColumns, events: Sequence[Event] = ()) -> int:
        """Store readings and events in one durable transaction; return how many readings were new."""
        [result] = await self.write_batches([(readings, events)])
        if isinstance(result, Exception):
            raise result
        return result

    async def _background_refresh(self) -> None:
        """One round of the background refresh: every closed dirty minute (SQLite spreads a large backlog)."""
        await self.refresh_rollups()

    async def _refresh_loop(self) -> None:
        # Keep refreshing through failures; history stays exact meanwhile (dirty minutes are read raw). An outage
        # is told once when it starts and once when it ends, not with a traceback every interval.
        failing = False
        while True:
            await asyncio.sleep(rollup.REFRESH_INTERVAL_S)
            try:
                await self._background_refresh()
            except StoreUnavailable as exc:
                if not failing:
                    log.warning("rollup refresh: %s; retrying every %g s", exc, rollup.REFRESH_INTERVAL_S)
                failing = True
            except Exception:
                log.exception("rollup refresh failed")
            else:
                if failing:
                    log.info("rollup refresh: the store is back")
                failing = False
