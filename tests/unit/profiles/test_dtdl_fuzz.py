"""Property tests: whatever JSON arrives as a DTDL import, the answer is a profile or a located InvalidInput."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from factorytwin.errors import InvalidInput
from factorytwin.profiles import ProfileBody
from factorytwin.profiles.dtdl import DtdlImport, profile_from_dtdl
from tests.unit.profiles.test_dtdl import BANDS, PUMP_DTDL

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(["@type", "name", "schema", "unit", "displayName", "request", "ftLow", "ftUnit", "@id"])


def problems_are_located(exc: InvalidInput) -> None:
    """Every problem has a location inside the request and a message."""
    assert exc.problems
    for problem in exc.problems:
        assert problem.loc
        assert problem.loc[0] in {"interface", "bands", "id"}
        assert problem.msg


def check(interface: dict[str, Any]) -> None:
    try:
        body = profile_from_dtdl(DtdlImport(interface=interface, bands=BANDS))
    except InvalidInput as exc:  # anything else escapes and fails the test
        problems_are_located(exc)
    else:
        assert isinstance(body, ProfileBody)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_any_json_object_is_a_profile_or_a_located_problem(interface: dict[str, Any]) -> None:
    check(interface)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(PUMP_DTDL["contents"]) - 1), keys, json_values)
def test_one_broken_property_of_a_real_interface_is_located(index: int, key: str, value: Any) -> None:
    doc = copy.deepcopy(PUMP_DTDL)
    doc["contents"][index][key] = value
    check(doc)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["@context", "@id", "@type", "contents", "displayName", "extends", "ftProfileId"]), json_values)
def test_a_broken_interface_header_is_located(key: str, value: Any) -> None:
    doc = copy.deepcopy(PUMP_DTDL)
    doc[key] = value
    check(doc)
