"""The one suite every ``SavedViewStore`` passes (SQLite and PostgreSQL): add with a new id, list one's own and the
shared ones newest first, get, delete; a view's name and hash read back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factorytwin.store import Store
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


def test_the_saved_views_table_is_the_same_step_on_both_backends() -> None:
    def where(steps: list[list[str]]) -> list[int]:
        return [i for i, step in enumerate(steps) if any("CREATE TABLE saved_views" in s for s in step)]

    assert len(where(SQLITE_MIGRATIONS)) == 1
    assert where(SQLITE_MIGRATIONS) == where(POSTGRES_MIGRATIONS)
    assert len(SQLITE_MIGRATIONS) == len(POSTGRES_MIGRATIONS)
