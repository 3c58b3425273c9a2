"""The ``WorkOrderStore`` protocol: work orders kept beside a ``Store`` (SQLite and PostgreSQL implementations)."""

from __future__ import annotations

from typing import Protocol

from factorytwin.workorders.models import WorkOrder, WorkOrderState


class WorkOrderStore(Protocol):
    """Where work orders live. Ids are given by the store; an update is compare-and-set on ``version``."""

    async def create(self, order: WorkOrder) -> WorkOrder:
        """Store a new work order (its ``id`` is ignored) and return it with the id given."""
        ...

    async def get(self, order_id: int) -> WorkOrder | None:
        """A work order, or None."""
        ...

    async def list(
        self, machine_id: str | None = None, states: list[WorkOrderState] | None = None, limit: int = 500
    ) -> list[WorkOrder]:
        """Work orders, newest first, of one machine and/or in some states."""
        ...

    async def replace(self, order: WorkOrder, read_version: int) -> bool:
        """Write ``order`` (its ``version`` is ``read_version + 1``) if the stored one is still ``read_version``."""
        ...
