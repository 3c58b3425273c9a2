"""``factorytwin layout export|import`` against a real server: the file round-trips, an import creates, updates and
(with --prune) deletes machines live, a broken file changes nothing, a refused machine is named by field."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from factorytwin.api.serve import BackgroundServer
from factorytwin.auth import Context, PrincipalKind, Role
from factorytwin.cli import app as cli
from factorytwin.config import Settings
from factorytwin.layout import load_layout

pytestmark = pytest.mark.integration
CTX = Context("tests", PrincipalKind.CLI, "cli")


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[tuple[BackgroundServer, str]]:
    async with BackgroundServer(Settings(database_url=sqlite_url, mqtt_url=None, layout_path=None)) as running:
        secret, _ = await running.app.state.services.auth.create_token("erin", Role.ENGINEER, CTX)
        yield running, secret


async def _run(*args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.stdout, result.stderr


async def test_export_then_import_round_trips_and_applies_changes_live(
    server: tuple[BackgroundServer, str], tmp_path: Path
) -> None:
    running, token = server
    base = ["--url", running.url, "--token", token]
    code, out, _ = await _run("layout", "export", *base)
    assert code == 0
    exported = yaml.safe_load(out)
    assert len(exported["machines"]) == 16
    assert {m["profile"] for m in exported["machines"]} >= {"pump", "cnc_mill"}
    path = tmp_path / "plant.yaml"
    path.write_text(out)
    by_id = sorted(load_layout().machines, key=lambda m: m.id)
    assert load_layout(path).machines == by_id  # the built-in plant, as written

    code, out, err = await _run("layout", "import", str(path), *base)
    assert code == 0
    assert "changed 0 machines" in err

    doc = yaml.safe_load(path.read_text())
    doc["machines"] = [m for m in doc["machines"] if m["id"] != "mill-01"]
    doc["machines"][0]["x"] = 3.5
    pump = next(m for m in doc["machines"] if m["id"] == "pump-01")
    doc["machines"].append(
        {
            **pump,
            "id": "pump-09",
            "name": "Pump 9",
            "bands": {"outlet_pressure": {"normal_low": 5.0, "normal_high": 12.0}},
        }
    )
    path.write_text(yaml.safe_dump(doc))

    code, out, _ = await _run("layout", "import", str(path), *base, "--dry-run")
    assert code == 0
    assert "would create pump-09" in out
    assert "pump-09" not in running.app.state.services.machines

    code, out, err = await _run("layout", "import", str(path), *base, "--prune")
    assert code == 0, err
    machines = running.app.state.services.machines
    assert "pump-09" in machines
    assert "mill-01" not in machines
    assert machines["pump-09"].bands["outlet_pressure"].normal_high == 12.0
    assert machines[doc["machines"][0]["id"]].x == 3.5
    assert "changed 3 machines, 0 refused" in err


async def test_a_refused_machine_is_named_and_a_broken_file_changes_nothing(
    server: tuple[BackgroundServer, str], tmp_path: Path
) -> None:
    running, token = server
    base = ["--url", running.url, "--token", token]
    path = tmp_path / "plant.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "x",
                "lines": [{"id": "u", "name": "U"}],
                "machines": [{"id": "boiler-01", "name": "Boiler", "profile": "boiler", "line": "u", "x": 1, "y": 1}],
            }
        )
    )
    code, _, err = await _run("layout", "import", str(path), *base)
    assert code == 1
    assert "create boiler-01: refused: profile: no profile 'boiler'" in err

    path.write_text("name: x\nlines: []\nmachines: [{id: m}]\n")
    code, _, err = await _run("layout", "import", str(path), *base)
    assert code == 2
    assert err.startswith("error: ")
    assert len(running.app.state.services.machines) == 16

    code, _, err = await _run("layout", "export", "--url", running.url, "--token", "nope")
    assert code == 2
    assert "GET layout" in err
