"""The one suite every ``ProfileStore`` passes: seeding, versions, create/update/delete (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from factorytwin.errors import Conflict
from factorytwin.profiles import ProfileBody, bundled_profiles
from factorytwin.profiles.storage import ProfileStore
from factorytwin.store import Store, open_store
from factorytwin.store.profiles import profile_store_for
from factorytwin.store.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture
def profiles(store: Store) -> ProfileStore:
    """The profile store beside the open test store."""
    return profile_store_for(store)


def body(profile_id: str = "extruder", normal_high: float = 240.0, name: str = "Extruder") -> ProfileBody:
    """A small valid profile."""
    return ProfileBody.model_validate(
        {
            "id": profile_id,
            "name": name,
            "sensors": [
                {
                    "key": "barrel_temp",
                    "label": "Barrel temperature",
                    "unit": "°C",
                    "low": 0,
                    "high": 400,
                    "normal_low": 180,
                    "normal_high": normal_high,
                },
                {
                    "key": "screw_speed",
                    "label": "Screw speed",
                    "unit": "rpm",
                    "low": 0,
                    "high": 300,
                    "normal_low": 20,
                    "normal_high": 150,
                    "activity": True,
                },
            ],
            "commands": [{"key": "stop", "label": "Stop"}],
            "appearance": {"kind": "primitive", "shape": "box", "width": 6, "height": 2, "depth": 1.2},
        }
    )


async def test_a_fresh_store_holds_the_bundled_profiles_as_version_1(profiles: ProfileStore) -> None:
    stored = await profiles.profiles()
    assert [p.profile() for p in stored] == list(bundled_profiles())
    assert all(p.bundled and p.version == 1 and p.saved_by == "factorytwin" for p in stored)


async def test_a_profile_is_created_as_version_1_and_read_back(profiles: ProfileStore) -> None:
    created = await profiles.create_profile(body(), "erin", T0)
    assert (created.version, created.bundled, created.saved_by, created.saved_at) == (1, False, "erin", T0)
    assert await profiles.profile("extruder") == created
    assert await profiles.profile("extruder", 1) == created
    assert "extruder" in [p.id for p in await profiles.profiles()]
    with pytest.raises(Conflict) as taken:
        await profiles.create_profile(body(name="Other"), "fay", T0)
    assert taken.value.loc == ("body", "id")
    got = await profiles.profile("extruder")
    assert got is not None
    assert got.name == "Extruder"


async def test_every_update_writes_a_new_version_and_old_ones_stay_readable(profiles: ProfileStore) -> None:
    await profiles.create_profile(body(), "erin", T0)
    second = await profiles.update_profile(body(normal_high=250.0), "fay", T0 + timedelta(hours=1))
    third = await profiles.update_profile(body(normal_high=260.0, name="Extruder 2"), "erin", T0 + timedelta(hours=2))
    assert second is not None
    assert third is not None
    assert (second.version, third.version) == (2, 3)
    latest = await profiles.profile("extruder")
    assert latest == third
    first = await profiles.profile("extruder", 1)
    assert first is not None
    assert (first.sensors[0].normal_high, first.saved_by) == (240.0, "erin")
    assert await profiles.profile("extruder", 2) == second
    assert await profiles.profile("extruder", 4) is None
    assert [p.version for p in await profiles.profiles() if p.id == "extruder"] == [3]
    assert await profiles.update_profile(body("nobody"), "erin", T0) is None


async def test_concurrent_updates_of_one_profile_take_distinct_versions(profiles: ProfileStore) -> None:
    await profiles.create_profile(body(), "erin", T0)
    done = await asyncio.gather(*(profiles.update_profile(body(normal_high=200.0 + i), "erin", T0) for i in range(6)))
    assert sorted(p.version for p in done if p is not None) == [2, 3, 4, 5, 6, 7]


async def test_a_bundled_profile_updates_as_any_other_and_stays_bundled(profiles: ProfileStore) -> None:
    [pump] = [p for p in bundled_profiles() if p.id == "pump"]
    edited = ProfileBody.model_validate(pump.model_dump(exclude={"version"}) | {"name": "Pump (plant 2)"})
    updated = await profiles.update_profile(edited, "erin", T0)
    assert updated is not None
    assert (updated.version, updated.bundled, updated.name) == (2, True, "Pump (plant 2)")


async def test_delete_removes_every_version(profiles: ProfileStore) -> None:
    await profiles.create_profile(body(), "erin", T0)
    await profiles.update_profile(body(normal_high=250.0), "erin", T0)
    assert await profiles.delete_profile("extruder")
    assert await profiles.profile("extruder") is None
    assert await profiles.profile("extruder", 1) is None
    assert not await profiles.delete_profile("extruder")
    recreated = await profiles.create_profile(body(), "fay", T0)
    assert recreated.version == 1


async def test_ids_and_versions_no_row_can_hold_find_nothing(profiles: ProfileStore) -> None:
    assert await profiles.profile("nul\x00id") is None
    assert await profiles.profile("pump", 2**40) is None
    assert await profiles.profile("pump", 0) is None
    assert not await profiles.delete_profile("nul\x00id")


async def test_reopening_seeds_nothing_twice_and_keeps_edits(store_url: str) -> None:
    first = open_store(store_url)
    await first.open()
    try:
        await profile_store_for(first).create_profile(body(), "erin", T0)
        [pump] = [p for p in bundled_profiles() if p.id == "pump"]
        edited = ProfileBody.model_validate(pump.model_dump(exclude={"version"}) | {"name": "Edited"})
        await profile_store_for(first).update_profile(edited, "erin", T0)
    finally:
        await first.close()
    again = open_store(store_url)
    await again.open()
    try:
        stored = {p.id: p for p in await profile_store_for(again).profiles()}
        assert len(stored) == len(bundled_profiles()) + 1
        assert (stored["pump"].name, stored["pump"].version) == ("Edited", 2)
    finally:
        await again.close()


def test_both_backends_have_the_profile_step_at_the_same_place() -> None:
    assert len(SQLITE_MIGRATIONS) == len(POSTGRES_MIGRATIONS)
    sqlite = [i for i, step in enumerate(SQLITE_MIGRATIONS) if any("CREATE TABLE profiles" in s for s in step)]
    postgres = [i for i, step in enumerate(POSTGRES_MIGRATIONS) if any("CREATE TABLE profiles" in s for s in step)]
    assert sqlite == postgres
    assert len(sqlite) == 1
