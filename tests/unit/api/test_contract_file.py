"""The committed OpenAPI document (web/src/api/openapi.json, input of the TypeScript generator) is current."""

from __future__ import annotations

import json
from pathlib import Path

from factorytwin.api.contract import contract_json, main

COMMITTED = Path(__file__).resolve().parents[3] / "web" / "src" / "api" / "openapi.json"


def test_the_committed_contract_matches_the_code() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == contract_json(), "run `make contract` and commit the result"


def test_the_dump_is_stable_and_written_where_asked(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert main([str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text == contract_json()
    assert {"ServerMessage", "ClientMessage", "MachineState"} <= set(json.loads(text)["components"]["schemas"])
