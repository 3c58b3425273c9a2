"""The unit table: symbols, aliases and DTDL names each name one unit."""

from __future__ import annotations

from pathlib import Path

from factorytwin.domain import CATALOGUE
from factorytwin.profiles import BY_DTDL, BY_SYMBOL, UNITS, canonical_unit
from factorytwin.profiles.units import unit_problem


def test_symbols_aliases_and_dtdl_names_are_unique() -> None:
    symbols = [u.symbol for u in UNITS]
    aliases = [a for u in UNITS for a in u.aliases]
    dtdl = [u.dtdl for u in UNITS if u.dtdl is not None]
    assert len(set(symbols)) == len(symbols)
    assert len(set(aliases)) == len(aliases)
    assert not set(symbols) & set(aliases)
    assert len(set(dtdl)) == len(dtdl) == len(BY_DTDL)


def test_the_common_industrial_units_are_in_the_table() -> None:
    for symbol in ("°C", "K", "bar", "psi", "mm/s", "rpm", "A", "V", "kW", "%", "L/min", "m3/h", "Nm", "Hz", "kN"):
        assert symbol in BY_SYMBOL, symbol


def test_every_catalogue_unit_is_a_canonical_symbol() -> None:
    for specs in CATALOGUE.values():
        for spec in specs:
            assert canonical_unit(spec.unit) == spec.unit, spec


def test_aliases_resolve_and_unknown_units_do_not() -> None:
    assert canonical_unit("m³/h") == "m3/h"
    assert canonical_unit("degC") == "°C"
    assert canonical_unit("N·m") == "Nm"
    assert canonical_unit("furlong") is None
    assert canonical_unit("") is None


def test_a_unit_with_a_semantic_type_has_a_dtdl_name() -> None:
    for unit in UNITS:
        if unit.semantic is not None:
            assert unit.dtdl is not None, unit


def test_the_problem_hints_at_a_unit_differing_in_case() -> None:
    assert "did you mean 'kW'" in unit_problem("KW")
    assert "did you mean" not in unit_problem("zorks")


def test_docs_profiles_lists_every_unit() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "PROFILES.md").read_text(encoding="utf-8")
    missing = [u.symbol for u in UNITS if f"| `{u.symbol}` |" not in text]
    assert not missing, f"docs/PROFILES.md lacks {missing}"
