"""``ProfileService`` over a real SQLite store: its rules (ids, versions, deletion, DTDL locations, the clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from factorytwin.errors import Conflict, InvalidInput, NotFound
from factorytwin.profiles import ProfileBody
from factorytwin.profiles.dtdl import DtdlImport
from factorytwin.profiles.service import ProfileService
from factorytwin.store import Store, open_store
from factorytwin.store.profiles import profile_store_for
from tests.unit.profiles.conftest import profile_doc
from tests.unit.profiles.test_dtdl import BANDS, PUMP_DTDL

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    """An open SQLite store."""
    st = open_store(sqlite_url)
    await st.open()
    try:
        yield st
    finally:
        await st.close()


@pytest.fixture
def users() -> dict[str, list[str]]:
    """Profile id -> machines using it, as the test sets it."""
    return {}


@pytest.fixture
def service(store: Store, users: dict[str, list[str]]) -> ProfileService:
    """The service on the store, on a fixed clock."""
    return ProfileService(profile_store_for(store), lambda pid: users.get(pid, []), now=lambda: T0)


async def test_writes_are_stamped_with_the_injected_clock_and_the_author(service: ProfileService) -> None:
    created = await service.create(ProfileBody.model_validate(profile_doc()), "erin")
    assert (created.saved_at, created.saved_by, created.version) == (T0, "erin", 1)


async def test_a_missing_profile_and_a_missing_version_are_told_apart(service: ProfileService) -> None:
    with pytest.raises(NotFound, match="no profile 'ghost'"):
        await service.get("ghost")
    with pytest.raises(NotFound, match="profile 'pump' has no version 9"):
        await service.get("pump", 9)
    assert (await service.get("pump", 1)).bundled


async def test_an_update_must_keep_the_id_and_find_the_profile(service: ProfileService) -> None:
    body = ProfileBody.model_validate(profile_doc())
    with pytest.raises(InvalidInput) as renamed:
        await service.update("other", body, "erin")
    assert [p.loc for p in renamed.value.problems] == [("body", "id")]
    with pytest.raises(NotFound, match="POST /profiles creates one"):
        await service.update(body.id, body, "erin")


async def test_delete_refuses_bundled_and_used_profiles(service: ProfileService, users: dict[str, list[str]]) -> None:
    with pytest.raises(Conflict, match="ships with factorytwin"):
        await service.delete("pump")
    await service.create(ProfileBody.model_validate(profile_doc()), "erin")
    users["centrifugal-pump"] = [f"p{i:02d}" for i in range(25, 0, -1)]
    with pytest.raises(Conflict) as used:
        await service.delete("centrifugal-pump")
    assert used.value.loc == ("path", "profile_id")
    assert str(used.value).endswith(
        "p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, p20 and 5 more"
    )
    users.clear()
    await service.delete("centrifugal-pump")
    with pytest.raises(NotFound):
        await service.delete("centrifugal-pump")


async def test_dtdl_problems_are_located_from_the_body_and_an_import_is_exported(service: ProfileService) -> None:
    with pytest.raises(InvalidInput) as bad:
        await service.import_dtdl(DtdlImport(interface=PUMP_DTDL), "erin")
    assert all(p.loc[:2] == ("body", "interface") for p in bad.value.problems)
    created = await service.import_dtdl(DtdlImport(interface=PUMP_DTDL, bands=BANDS), "erin")
    doc = await service.export_dtdl(created.id)
    assert doc["ftProfileId"] == "centrifugal_pump"
    with pytest.raises(NotFound):
        await service.export_dtdl(created.id, 2)
