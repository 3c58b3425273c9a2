"""Version ids are validated: the registry refuses a malformed id and the API answers 422, never writing ACTIVE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import create_app
from factorytwin.config import Settings
from factorytwin.errors import InvalidInput
from factorytwin.ml.registry import ModelRegistry, check_version
from tests.credentials import bearer

BAD_IDS = ["..", "../v0001", "v0001/../..", "v0001\x00", "v1", "v0001\n", "", "V0001", "v" + "9" * 13]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_registry_refuses_malformed_ids(tmp_path: Path, bad: str) -> None:
    registry = ModelRegistry(tmp_path / "models")
    with pytest.raises(InvalidInput, match="version"):
        check_version(bad)
    with pytest.raises(InvalidInput):
        registry.activate(bad)
    assert not (tmp_path / "models" / "ACTIVE").exists()


def test_a_hand_written_marker_naming_a_path_is_ignored(tmp_path: Path) -> None:
    root = tmp_path / "models"
    (root / "v0001").mkdir(parents=True)
    (root / "v0001" / "model.json").write_text("{}", "utf-8")
    (root / "ACTIVE").write_text("v0001/../v0001\n", "utf-8")
    assert ModelRegistry(root).active_version() is None
    assert check_version("v0001") == "v0001"


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings.model_copy(update={"model_dir": tmp_path / "models"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await bearer(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
            yield c


@pytest.mark.parametrize("raw", ["..", "%2E%2E", "v0001%00", "v0001%2F..", "abc"])
async def test_activate_with_a_bad_id_is_422_and_writes_nothing(
    client: httpx.AsyncClient, tmp_path: Path, raw: str
) -> None:
    # The raw path is sent as is (like curl --path-as-is): httpx would otherwise normalise "..".
    request = client.build_request("POST", "http://test/api/v1/models/x/activate")
    request.url = request.url.copy_with(raw_path=f"/api/v1/models/{raw}/activate".encode())
    r = await client.send(request)
    # 422 from the version pattern; 404 (or 405 from the dashboard's GET catch-all, when it is built) when the dot
    # segments or the decoded slash make the path another one: never a 2xx, never a 500
    assert r.status_code in {404, 405, 422}, r.text
    assert not (tmp_path / "models" / "ACTIVE").exists()


async def test_activate_an_unknown_well_formed_id_is_404(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/models/v0042/activate")
    assert r.status_code == 404
    assert "v0042" in r.text
