"""The one suite every ``SavedViewStore`` passes (SQLite and PostgreSQL): add with a new id, list one's own and the
shared ones newest first, get, rename or share, delete; one name per owner (a save or a rename to a name taken is a
conflict); a view's name and hash read back exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from factorytwin.errors import Conflict
from factorytwin.store import Store
from factorytwin.store.postgres import PostgresStore
from factorytwin.store.saved_views import SavedView, saved_view_store_for
from factorytwin.store.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


def view(name: str, owner: str, shared: bool = False, minutes: int = 0) -> SavedView:
    return SavedView(
        id=0,
        name=name,
        hash=f"#/history/mill-01?range=6h&add=press-02:force&name={len(name)}",
        owner=owner,
        shared=shared,
        created_at=T0 + timedelta(minutes=minutes),
    )


async def test_views_are_added_listed_for_their_owner_or_shared_and_deleted(store: Store) -> None:
    views = saved_view_store_for(store)
    assert await views.views_for("ana") == []
    mine = await views.add_view(view("Spindle vs force ü", "ana"))
    theirs = await views.add_view(view("Bo's private", "bo", minutes=1))
    shared = await views.add_view(view("Bo's shared", "bo", shared=True, minutes=2))
    assert len({mine.id, theirs.id, shared.id}) == 3
    assert min(mine.id, theirs.id, shared.id) >= 1
    assert [v.name for v in await views.views_for("ana")] == ["Bo's shared", "Spindle vs force ü"]
    assert [v.name for v in await views.views_for("bo")] == ["Bo's shared", "Bo's private"]
    assert await views.get_view(mine.id) == mine  # exact: name, hash, flag, time to the ms
    assert await views.get_view(10**12) is None
    assert await views.views_for("ana", limit=1) == [shared]
    assert await views.delete_view(mine.id) is True
    assert await views.delete_view(mine.id) is False
    assert [v.id for v in await views.views_for("ana")] == [shared.id]


async def test_a_view_is_renamed_or_shared_in_place_and_a_name_its_owner_has_is_a_conflict(store: Store) -> None:
    views = saved_view_store_for(store)
    mine = await views.add_view(view("Spindles", "ana"))
    other = await views.add_view(view("Presses", "ana", minutes=1))
    theirs = await views.add_view(view("Lathes", "bo", minutes=2))
    renamed = await views.update_view(mine.id, name="Spindles ü, hourly")
    assert renamed == mine.model_copy(update={"name": "Spindles ü, hourly"})
    assert await views.get_view(mine.id) == renamed
    shared = await views.update_view(mine.id, shared=True)
    assert shared == renamed.model_copy(update={"shared": True})
    both = await views.update_view(mine.id, name="Spindles", shared=False)
    assert both == mine
    assert await views.update_view(mine.id) == mine  # nothing asked, nothing changed
    assert await views.update_view(mine.id, name="Spindles") == mine  # its own name: no clash
    with pytest.raises(Conflict) as clash:
        await views.update_view(mine.id, name="Presses", shared=True)
    assert clash.value.loc == ("body", "name")
    assert await views.get_view(mine.id) == mine  # the shared flag of the refused change is not written either
    assert (await views.update_view(mine.id, name="Lathes")) is not None  # bo's name: each owner has their own
    assert await views.update_view(10**12, name="x") is None
    assert {v.name for v in await views.views_for("ana")} == {"Lathes", "Presses"}
    assert await views.get_view(theirs.id) == theirs
    assert await views.get_view(other.id) == other


async def test_two_renames_to_one_name_at_once_leave_one_view_of_that_name(store: Store) -> None:
    views = saved_view_store_for(store)
    added = [await views.add_view(view(f"v{i}", "ana", minutes=i)) for i in range(6)]
    if isinstance(store, PostgresStore):
        # every connection of the pool open before the renames start, so that they run in as many transactions at
        # once (a pool that opens its connections on demand staggers them, and they would not overlap)
        held = [await store.pool.acquire() for _ in range(store.pool.get_max_size())]
        for conn in held:
            await store.pool.release(conn)
    results = await asyncio.gather(*(views.update_view(v.id, name="the one") for v in added), return_exceptions=True)
    assert sum(isinstance(r, Conflict) for r in results) == len(added) - 1, results
    assert [v.name for v in await views.views_for("ana")].count("the one") == 1


async def test_a_new_view_of_a_name_its_owner_has_is_a_conflict_and_is_not_stored(store: Store) -> None:
    views = saved_view_store_for(store)
    mine = await views.add_view(view("Spindles", "ana"))
    with pytest.raises(Conflict) as clash:
        await views.add_view(view("Spindles", "ana", shared=True, minutes=1))
    assert clash.value.loc == ("body", "name")
    assert await views.views_for("ana") == [mine]
    theirs = await views.add_view(view("Spindles", "bo", minutes=2))  # each owner names their own views
    assert theirs.id != mine.id


async def test_two_saves_of_one_name_at_once_store_one_view(store: Store) -> None:
    views = saved_view_store_for(store)
    if isinstance(store, PostgresStore):  # as many transactions at once as the pool holds (see the renames below)
        held = [await store.pool.acquire() for _ in range(store.pool.get_max_size())]
        for conn in held:
            await store.pool.release(conn)
    results = await asyncio.gather(
        *(views.add_view(view("the one", "ana", minutes=i)) for i in range(6)), return_exceptions=True
    )
    assert sum(isinstance(r, Conflict) for r in results) == 5, results
    assert [v.name for v in await views.views_for("ana")] == ["the one"]


def test_the_saved_views_table_is_the_same_step_on_both_backends() -> None:
    def where(steps: list[list[str]]) -> list[int]:
        return [i for i, step in enumerate(steps) if any("CREATE TABLE saved_views" in s for s in step)]

    assert len(where(SQLITE_MIGRATIONS)) == 1
    assert where(SQLITE_MIGRATIONS) == where(POSTGRES_MIGRATIONS)
    assert len(SQLITE_MIGRATIONS) == len(POSTGRES_MIGRATIONS)
