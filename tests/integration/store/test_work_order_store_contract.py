"""The one suite every ``WorkOrderStore`` passes: ids, reads, filters, compare-and-set (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factorytwin.store import Store
from factorytwin.store.workorders import work_order_store_for
from factorytwin.workorders import WorkOrder, WorkOrderState
from factorytwin.workorders.storage import WorkOrderStore, WorkOrderWindow

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture
def orders(store: Store) -> WorkOrderStore:
    """The work-order store beside the open test store."""
    return work_order_store_for(store)


def order(machine_id: str = "mill-01", minutes: int = 0, state: WorkOrderState = WorkOrderState.OPEN) -> WorkOrder:
    """A small work order created ``minutes`` after T0."""
    at = T0 + timedelta(minutes=minutes)
    return WorkOrder(
        id=0,
        machine_id=machine_id,
        title="Replace spindle bearing",
        description="noisy — ü",
        source="manual",
        state=state,
        created_at=at,
        created_by="ana",
        updated_at=at,
        version=1,
        parts=["bearing 6204"],
    )


async def test_create_gives_ids_and_reads_back_every_field(orders: WorkOrderStore) -> None:
    a = await orders.create(order())
    b = await orders.create(order(minutes=1))
    assert a.id > 0
    assert b.id > a.id
    assert await orders.get(a.id) == a
    assert await orders.get(b.id + 1000) is None


async def test_list_filters_by_machine_and_state_newest_first(orders: WorkOrderStore) -> None:
    a = await orders.create(order("mill-01", 0))
    b = await orders.create(order("mill-01", 2, WorkOrderState.DONE))
    c = await orders.create(order("lathe-01", 1))
    assert [o.id for o in await orders.list()] == [b.id, c.id, a.id]
    assert [o.id for o in await orders.list(machine_id="mill-01")] == [b.id, a.id]
    assert [o.id for o in await orders.list(states=[WorkOrderState.OPEN])] == [c.id, a.id]
    assert [o.id for o in await orders.list("mill-01", [WorkOrderState.OPEN, WorkOrderState.DONE], limit=1)] == [b.id]


async def test_replace_is_compare_and_set_on_the_version(orders: WorkOrderStore) -> None:
    a = await orders.create(order())
    moved = a.model_copy(update={"state": WorkOrderState.IN_PROGRESS, "version": 2})
    assert await orders.replace(moved, 1)
    stale = a.model_copy(update={"state": WorkOrderState.CANCELLED, "version": 2})
    assert not await orders.replace(stale, 1)
    assert await orders.get(a.id) == moved
    assert [o.id for o in await orders.list(states=[WorkOrderState.IN_PROGRESS])] == [a.id]


async def test_list_pages_through_a_window_of_creation_times(orders: WorkOrderStore) -> None:
    made = [await orders.create(order("mill-01" if i % 2 else "lathe-01", i // 2)) for i in range(7)]
    # minutes 0, 0, 1, 1, 2, 2, 3: two orders share each creation time, so a page may end between them
    window = WorkOrderWindow(start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=3))
    want = [o.id for o in sorted(made[2:6], key=lambda o: (o.created_at, o.id), reverse=True)]
    assert [o.id for o in await orders.list(window=window)] == want
    seen: list[int] = []
    while True:
        page = await orders.list(limit=3, window=window)
        seen += [o.id for o in page]
        if len(page) < 3:
            break
        window = WorkOrderWindow(window.start, window.end, (page[-1].created_at, page[-1].id))
    assert seen == want
    mine = await orders.list("mill-01", window=WorkOrderWindow(end=T0 + timedelta(minutes=1)))
    assert [o.id for o in mine] == [made[1].id]
