"""The ``WorkOrderStore`` protocol: work orders kept beside a ``Store`` (SQLite and PostgreSQL implementations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from factorytwin.workorders.models import WorkOrder, WorkOrderState


@dataclass(frozen=True, slots=True)
class WorkOrderWindow:
    """Which work orders a list covers: created in ``[start, end)`` (either side open) and, for the next page of a
    long read, older than ``before`` (the ``(created_at, id)`` of the last order of the previous page)."""

    start: datetime | None = None
    end: datetime | None = None
    before: tuple[datetime, int] | None = None


class WorkOrderStore(Protocol):
    """Where work orders live. Ids are given by the store; an update is compare-and-set on ``version``."""

    async def create(self, order: WorkOrder) -> WorkOrder:
        """Store a new work order (its ``id`` is ignored) and return it with the id given."""
        ...

    async def get(self, order_id: int) -> WorkOrder | None:
        """A work order, or None."""
        ...

    async def list(
        self,
        machine_id: str | None = None,
        states: list[WorkOrderState] | None = None,
        limit: int = 500,
        window: WorkOrderWindow | None = None,
    ) -> list[WorkOrder]:
        """Work orders, newest first (by creation, then id), of one machine and/or in some states, within
        ``window``."""
        ...

    async def replace(self, order: WorkOrder, read_version: int) -> bool:
        """Write ``order`` (its ``version`` is ``read_version + 1``) if the stored one is still ``read_version``."""
        ...
