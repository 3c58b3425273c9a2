"""Property tests: whatever arrives as a telemetry body, the answer is a located InvalidInput, never a crash."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factorytwin.api.routers.telemetry import parse_telemetry
from factorytwin.config import Settings
from factorytwin.errors import InvalidInput
from factorytwin.ingest import IngestService
from factorytwin.layout import load_layout
from factorytwin.store.sqlite import SQLiteStore

MACHINES = load_layout().machines
# Only ``validate`` is called: the store is never opened (no file is made).
SERVICE = IngestService(Settings(), store=SQLiteStore("never-opened.db"), machines=MACHINES)

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
machine_ids = st.sampled_from([m.id for m in MACHINES] + ["ghost", "", "a b"])
sensor_keys = st.sampled_from(["torque", "flow_rate", "vibration", "air_temp", "nope", ""])
numbers = st.floats() | st.integers(-(10**30), 10**30) | st.text(max_size=5) | st.none()
times = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat) | st.text(max_size=30)
reading_sets = st.fixed_dictionaries(
    {"machine_id": machine_ids, "ts": times, "values": st.dictionaries(sensor_keys, numbers, max_size=5)},
    optional={"extra": json_values},
)
bodies = (
    json_values
    | reading_sets
    | st.fixed_dictionaries({"readings": st.lists(reading_sets, max_size=5)}, optional={"events": json_values})
)


def check(body: bytes) -> None:
    try:
        batch, _single = parse_telemetry(body)
        SERVICE.validate(batch)
    except InvalidInput as exc:  # anything else escapes and fails the test
        problems = exc.problems
    else:
        return  # accepted
    assert problems, "a refusal names at least one located problem"
    for problem in problems:
        assert isinstance(problem.loc, tuple)
        assert problem.msg


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


# Hypothesis spends 10-50 s drawing 400 nested JSON bodies (the check itself is quick): marked slow, so
# ``pytest -m "not slow"`` skips it in the edit-test loop while ``make test`` still runs it.
@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(bodies)
def test_any_json_body_is_accepted_or_refused_with_located_problems(body: Any) -> None:
    check(_dump(body))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_accepted_or_refused_with_located_problems(body: bytes) -> None:
    check(body)


def test_non_finite_values_never_pass() -> None:
    for value in (math.nan, math.inf, -math.inf):
        body = _dump({"machine_id": "mill-01", "ts": "2026-01-01T00:00:00Z", "values": {"torque": value}})
        with pytest.raises(InvalidInput):
            SERVICE.validate(parse_telemetry(body)[0])
