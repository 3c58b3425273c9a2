"""The `serve` command's option handling and the in-process BackgroundServer."""

from __future__ import annotations

import asyncio
import gc
import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from factorytwin.api import serve as serve_module
from factorytwin.api.serve import BackgroundServer
from factorytwin.auth import Role
from factorytwin.cli import app as cli
from factorytwin.config import Settings
from tests.credentials import token_for


def test_serve_refuses_an_unusable_database_url_without_a_traceback() -> None:
    result = CliRunner().invoke(cli, ["serve", "--database-url", "mysql://db/x"])
    assert result.exit_code == 2
    assert "sqlite:///" in result.output
    assert "Traceback" not in result.output


def test_serve_names_a_missing_layout_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--layout", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output


def test_serve_refuses_a_port_out_of_range() -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: FT_PORT: Input should be less than or equal to 65535"


async def test_background_server_serves_on_a_free_port_and_stops(settings: Settings) -> None:
    async with BackgroundServer(settings) as server:
        assert server.port > 0
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/api/v1/health")).json()["status"] == "ok"
    async with httpx.AsyncClient(base_url=server.url) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/api/v1/health", timeout=2)


async def test_background_server_start_up_failure_is_an_exception(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "layout.yaml"
    bad.write_text("name: x\nlines: []\nmachines: [{id: m, name: m, profile: boiler, line: l, x: 0, y: 0}]\n")
    with pytest.raises(RuntimeError, match="failed to start"):
        await BackgroundServer(settings.model_copy(update={"layout_path": bad})).start()


def test_serve_refuses_to_listen_beyond_loopback_until_someone_can_log_in(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[str] = []

    def run_server(settings: Settings, sock: socket.socket) -> None:
        sock.close()
        served.append(settings.host)

    monkeypatch.setattr(serve_module, "run_server", run_server)
    args = ["serve", "--host", "0.0.0.0", "--port", "0", "--database-url", sqlite_url]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in refused.output
    assert "factorytwin users add" in refused.output  # says how
    assert served == []
    assert CliRunner().invoke(cli, ["serve", "--port", "0", "--database-url", sqlite_url]).exit_code == 0  # loopback
    asyncio.run(token_for(sqlite_url, Role.ADMIN))
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert served == ["127.0.0.1", "0.0.0.0"]


def test_settling_the_heap_freezes_what_start_up_built_and_collects_the_young_less_often() -> None:
    before = gc.get_threshold()
    try:
        serve_module.settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == serve_module.GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
