"""Factory layouts: the default factory, and refusing bad files with file, line and field named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from factorytwin.domain import MachineKind
from factorytwin.errors import LayoutError
from factorytwin.layout import SafeLoader, load_layout, parse_layout


def test_default_factory_has_lines_and_every_kind() -> None:
    layout = load_layout()
    assert 12 <= len(layout.machines) <= 20
    assert len(layout.lines) >= 2
    assert {m.profile for m in layout.machines} == set(MachineKind)


GOOD = """name: t
lines: [{id: l1, name: L1}]
machines:
  - {id: m1, name: M1, kind: pump, line: l1, x: 1, y: 2}
"""


def test_a_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(GOOD)
    assert load_layout(path).machines[0].profile == "pump"


def test_a_profile_is_any_profile_id_and_a_malformed_one_is_refused_with_line_and_field() -> None:
    assert parse_layout(GOOD.replace("kind: pump", "profile: boiler"), "f.yaml").machines[0].profile == "boiler"
    text = GOOD.replace("kind: pump", "kind: not a profile")
    with pytest.raises(LayoutError, match=r"f.yaml:4: machines\.0\.kind"):
        parse_layout(text, "f.yaml")


def test_missing_field_is_refused_with_line_and_field() -> None:
    text = GOOD.replace(" x: 1,", "")
    with pytest.raises(LayoutError, match=r"f.yaml:4: machines\.0\.x: Field required"):
        parse_layout(text, "f.yaml")


def test_undeclared_line_is_refused() -> None:
    with pytest.raises(LayoutError, match=r"machines\.0\.line"):
        parse_layout(GOOD.replace("line: l1", "line: nope"), "f.yaml")


def test_duplicate_machine_is_refused() -> None:
    text = GOOD + "  - {id: m1, name: M2, kind: pump, line: l1, x: 3, y: 2}\n"
    with pytest.raises(LayoutError, match="duplicate machine id"):
        parse_layout(text, "f.yaml")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"nope\.yaml"):
        load_layout(tmp_path / "nope.yaml")


def test_invalid_yaml_and_a_non_mapping_are_refused_with_the_source_named() -> None:
    with pytest.raises(LayoutError, match=r"f.yaml: not valid YAML/JSON"):
        parse_layout("name: [unclosed", "f.yaml")
    with pytest.raises(LayoutError, match=r"f.yaml: a layout must be a mapping"):
        parse_layout("- just\n- a list\n", "f.yaml")


def test_a_large_layout_loads_with_libyaml_when_pyyaml_has_it() -> None:
    assert SafeLoader is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    rows = "\n".join(f"  - {{id: m{i}, name: M{i}, kind: pump, line: l1, x: {i}, y: 0}}" for i in range(2000))
    layout = parse_layout("name: t\nlines: [{id: l1, name: L1}]\nmachines:\n" + rows + "\n", "big.yaml")
    assert [m.id for m in layout.machines[:2]] == ["m0", "m1"]
    assert len(layout.machines) == 2000
