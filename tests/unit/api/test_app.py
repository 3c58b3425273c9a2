"""The app factory: service hooks, a store given by the caller, the dashboard's static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from factorytwin.api import Services, create_app
from factorytwin.api import app as app_module
from factorytwin.api import lifespan as lifespan_module
from factorytwin.config import Settings
from factorytwin.store import open_store
from tests.credentials import bearer


async def test_service_hooks_start_after_ingest_and_stop_at_shutdown(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []

    @asynccontextmanager
    async def hook(services: Services) -> AsyncIterator[None]:
        log.append(f"start {services.ingest.queue_depth} {len(services.machines)}")
        services.health_sections["hooked"] = lambda: {"ok": 1}
        yield
        log.append("stop")

    monkeypatch.setattr(lifespan_module, "SERVICE_HOOKS", [*lifespan_module.SERVICE_HOOKS, hook])
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        assert log == ["start 0 16"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
            assert (await c.get("/api/v1/health")).json()["sections"]["hooked"] == {"ok": 1}
    assert log == ["start 0 16", "stop"]


async def test_a_store_given_by_the_caller_stays_open_after_shutdown(settings: Settings) -> None:
    store = open_store(settings.database_url)
    await store.open()
    application = create_app(settings, store)
    async with application.router.lifespan_context(application):
        assert application.state.services.store is store
    assert len(await store.machines()) == 16  # still usable: the app did not close it
    await store.close()


async def test_the_dashboard_is_served_at_root_with_spa_fallback(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<html>twin</html>")
    (static / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("no")
    monkeypatch.setattr(app_module, "STATIC_DIR", static)
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c,
    ):
        assert (await c.get("/")).text == "<html>twin</html>"
        assert (await c.get("/assets/app.js")).text == "console.log(1)"
        assert (await c.get("/machines/mill-01")).text == "<html>twin</html>"  # a client-side route
        assert (await c.get("/..%2Fsecret.txt")).text == "<html>twin</html>"  # never a file outside
        missing = await c.get("/api/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/json"
        assert (await c.get("/api/v1/layout")).status_code == 401  # the dashboard is public, the API is not
        assert (await c.get("/api/v1/layout", headers=await bearer(application))).status_code == 200
        post_only = await c.get("/api/v1/telemetry")  # a POST route: 405 naming its methods, not the SPA's 404
        assert post_only.status_code == 405
        assert post_only.headers["allow"] == "POST"
        assert (await c.get("/api/v1/alarms/7/ack")).status_code == 405


async def test_without_a_dashboard_build_root_is_404(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STATIC_DIR", tmp_path / "absent")
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c,
    ):
        assert (await c.get("/")).status_code == 404


async def test_hashed_assets_are_cached_for_good_and_sent_gzipped_the_index_revalidated(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<html>twin</html>")
    (static / "assets" / "index-3f2a9c.js").write_text("console.log('twin');\n" * 200)
    monkeypatch.setattr(app_module, "STATIC_DIR", static)
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c,
    ):
        asset = await c.get("/assets/index-3f2a9c.js", headers={"accept-encoding": "gzip"})
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-encoding"] == "gzip"
        assert asset.text == "console.log('twin');\n" * 200  # httpx decodes it
        assert int(asset.headers["content-length"]) < 1000  # 4200 bytes of JavaScript, compressed
        index = await c.get("/")
        assert index.headers["cache-control"] == "no-cache"
        assert "content-encoding" not in index.headers  # too small to be worth it
