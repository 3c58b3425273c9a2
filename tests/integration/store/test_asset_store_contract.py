"""The one suite every ``AssetStore`` passes (SQLite and PostgreSQL): store, read back byte for byte, list, delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from factorytwin.profiles.assets import GLB, AssetInfo
from factorytwin.store import Store
from factorytwin.store.assets import asset_store_for
from tests.unit.profiles.gltf_files import box_glb

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


def info(asset_id: str, data: bytes, by: str = "erin") -> AssetInfo:
    """What the service would store for ``data``."""
    return AssetInfo(
        id=asset_id, name="tank.glb", media_type=GLB, size=len(data), sha256="0" * 64, saved_at=T0, saved_by=by
    )


async def test_an_asset_reads_back_byte_for_byte_and_is_listed_without_its_bytes(store: Store) -> None:
    assets = asset_store_for(store)
    data = box_glb() + bytes(range(256))  # every byte value survives the round trip
    stored = await assets.put_asset(info("a1", data), data)
    assert stored == info("a1", data)
    found = await assets.asset("a1")
    assert found is not None
    assert (found.info, found.data) == (stored, data)
    assert await assets.assets() == [stored]
    assert await assets.asset("nope") is None


async def test_the_same_id_again_keeps_the_first_upload(store: Store) -> None:
    assets = asset_store_for(store)
    data = box_glb()
    first = await assets.put_asset(info("a1", data), data)
    again = await assets.put_asset(info("a1", data, by="other"), data)
    assert again == first
    assert len(await assets.assets()) == 1


async def test_delete_removes_an_asset_once(store: Store) -> None:
    assets = asset_store_for(store)
    data = box_glb()
    await assets.put_asset(info("a1", data), data)
    assert await assets.delete_asset("a1") is True
    assert await assets.delete_asset("a1") is False
    assert await assets.asset("a1") is None
    assert await assets.assets() == []
