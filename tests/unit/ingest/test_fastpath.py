"""The fast path of HTTP batch ingest: it accepts only what the full path accepts, with the very same result."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factorytwin.api.routers.telemetry import parse_telemetry
from factorytwin.config import Settings
from factorytwin.domain import ReadingSet
from factorytwin.errors import InvalidInput
from factorytwin.ingest import IngestService
from factorytwin.ingest.fastpath import MAX_SIGNATURES, BatchDecoder, reading_set
from factorytwin.layout import load_layout

MACHINES = load_layout().machines
NOW = datetime.now(UTC).replace(microsecond=0)
ISO = NOW.isoformat()
_ISO_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def service(max_batch_readings: int = 1000) -> IngestService:
    return IngestService(Settings(max_batch_readings=max_batch_readings), None, MACHINES)  # type: ignore[arg-type]


def body(*sets: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"readings": list(sets), **top}).encode()


def rs(machine: str = "mill-01", ts: Any = ISO, **values: Any) -> dict[str, Any]:
    return {"machine_id": machine, "ts": ts, "values": values or {"torque": 40.0, "power": 6.5}}


def full_path(svc: IngestService, raw: bytes) -> Any:
    """What the full path makes of ``raw``: (batch, columns), or None when it refuses it."""
    try:
        batch, single = parse_telemetry(raw)
        columns, _ = svc.validate(batch)
    except InvalidInput:
        return None
    return None if single else (batch, columns)


def test_a_good_batch_decodes_to_what_the_full_path_makes() -> None:
    svc = service()
    raw = body(rs(), rs("pump-01", flow_rate=80.5), rs(ts=(NOW - timedelta(seconds=1)).isoformat()))
    fast = svc.decode_batch(raw)
    assert fast is not None
    batch, (columns, events) = fast
    expected_batch, expected_columns = full_path(svc, raw)
    assert batch == expected_batch
    assert columns == expected_columns
    assert events == []
    assert batch.model_dump_json() == expected_batch.model_dump_json()


def test_an_empty_events_list_is_still_the_fast_case() -> None:
    assert service().decode_batch(body(rs(), events=[])) is not None


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        json.dumps(rs()).encode(),  # a single reading set: the full path tells it apart
        body(),  # no reading sets
        body(rs(), events=[{"machine_id": "mill-01", "ts": ISO, "kind": "note"}]),
        body(rs(), events={}),
        body(rs(), extra=1),
        json.dumps({"readings": {}}).encode(),
        body([1, 2]),  # type: ignore[arg-type]
        body({**rs(), "extra": 1}),
        body({"machine_id": "mill-01", "ts": ISO}),
        body(rs("no-such-machine")),
        body(rs(machine=7)),  # type: ignore[arg-type]
        body(rs(ts="yesterday")),
        body(rs(ts="2026-01-01T00:00:00")),  # naive
        body(rs(ts=1_767_225_600)),
        body(rs(ts=(NOW + timedelta(days=1)).isoformat())),
        body(rs(ts="1960-01-01T00:00:00Z")),
        body(rs(values={})),
        body(rs(values=[1.0])),
        body(rs(nope=1.0)),
        body(rs(torque=1e9)),
        body(rs(torque=40)),  # an int: pydantic makes it a float, the full path decides
        body(rs(torque=True)),
        body(rs(torque="40.0")),
        body(rs(torque=None)),
        b'{"readings": [{"machine_id": "mill-01", "ts": "' + ISO.encode() + b'", "values": {"torque": NaN}}]}',
        b'{"readings": [{"machine_id": "mill-01", "ts": "' + ISO.encode() + b'", "values": {"torque": Infinity}}]}',
    ],
    ids=lambda raw: _ISO_RE.sub("<now>", raw.decode()),  # the same ids in every process (pytest-xdist's workers)
)
def test_anything_but_a_plainly_good_batch_takes_the_full_path(raw: bytes) -> None:
    assert service().decode_batch(raw) is None


def test_a_batch_over_the_value_limit_takes_the_full_path() -> None:
    assert service(max_batch_readings=3).decode_batch(body(rs(), rs())) is None


def test_machines_added_and_removed_change_what_the_fast_path_accepts() -> None:
    svc = service()
    raw = body(rs())
    assert svc.decode_batch(raw) is not None
    svc.remove_machine("mill-01")
    assert svc.decode_batch(raw) is None
    svc.put_machine(next(m for m in MACHINES if m.id == "mill-01"))
    assert svc.decode_batch(raw) is not None


def test_the_signature_cache_keeps_no_bad_keys_and_stays_bounded() -> None:
    decoder = BatchDecoder({"m": {f"s{i}": (0.0, 1.0) for i in range(20)}})
    for i in range(50):
        assert decoder.decode(body(rs("m", **{f"bad{i}": 0.5})), 100, 0, 2**62) is None
    assert decoder.cached_signatures == 0
    for i in range(MAX_SIGNATURES + 10):
        keys = [f"s{(i >> b) % 20}" for b in range(0, 12, 4)]
        decoder.decode(body(rs("m", **dict.fromkeys(keys, 0.5))), 100, 0, 2**62)
    assert 0 < decoder.cached_signatures <= MAX_SIGNATURES + 1


def test_every_machine_of_a_large_plant_keeps_its_signature_cached() -> None:
    machines = MAX_SIGNATURES * 2
    decoder = BatchDecoder({f"m{i}": {"s": (0.0, 1.0)} for i in range(machines)})
    sets = [rs(f"m{i}", s=0.5) for i in range(machines)]
    assert decoder.decode(body(*sets), 10 * machines, 0, 2**62) is not None
    cached = {(m, keys): sig for m, of in decoder._signatures.items() for keys, sig in of.items()}
    assert len(cached) == decoder.cached_signatures == machines
    assert decoder.decode(body(*sets), 10 * machines, 0, 2**62) is not None
    assert all(decoder._signatures[m][keys] is sig for (m, keys), sig in cached.items())  # none built again


def test_a_reading_set_built_without_validation_equals_the_validated_one() -> None:
    validated = ReadingSet(machine_id="mill-01", ts=NOW, values={"torque": 1.0})
    built = reading_set("mill-01", NOW, {"torque": 1.0})
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump_json() == validated.model_dump_json()
    built.machine_id = "mill-02"  # attributes stay assignable, as on any model
    assert built.machine_id == "mill-02"


_good_values = st.dictionaries(
    st.sampled_from(["torque", "power", "vibration", "motor_current"]),
    st.floats(min_value=0.0, max_value=60.0),
    min_size=1,
    max_size=4,
)
_any_values = st.dictionaries(
    st.sampled_from(["torque", "power", "air_temp", "flow_rate", "nope"]),
    st.one_of(
        st.floats(min_value=0.0, max_value=60.0),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**20), 10**20),
        st.booleans(),
        st.none(),
        st.just("1.5"),
    ),
    max_size=4,
)
_good_times = st.sampled_from([ISO, "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00.5Z"])
_any_times = st.one_of(_good_times, st.sampled_from(["2026-01-01T00:00:00", "x", "", 5, 1.5, None, "9999-01-01Z"]))
_good_sets = st.fixed_dictionaries(
    {"machine_id": st.sampled_from(["mill-01", "mill-02"]), "ts": _good_times, "values": _good_values}
)
_any_sets = st.fixed_dictionaries(
    {"machine_id": st.sampled_from(["mill-01", "pump-01", "ghost", "", 3]), "ts": _any_times, "values": _any_values}
)
# Mostly good sets with now and then a bad one: the fast path's verdict matters on the border.
_sets = st.one_of(_good_sets, _good_sets, _good_sets, _any_sets)


@settings(max_examples=300, deadline=None)
@given(st.lists(_sets, max_size=4))
def test_the_fast_path_accepts_only_what_the_full_path_accepts_with_the_same_result(sets: list[Any]) -> None:
    svc = service()
    raw = json.dumps({"readings": sets}).encode()
    fast = svc.decode_batch(raw)
    if fast is not None:
        batch, (columns, events) = fast
        assert full_path(svc, raw) == (batch, columns)
        assert events == []


def test_a_machine_given_another_profile_drops_its_cached_signatures() -> None:
    decoder = BatchDecoder({"m": {"a": (0.0, 1.0)}, "n": {"a": (0.0, 1.0)}})
    assert decoder.decode(body(rs("m", a=0.5), rs("n", a=0.5)), 100, 0, 2**62) is not None
    assert decoder.cached_signatures == 2
    decoder.put("m", {"a": (0.0, 0.1)})  # the same key, a narrower range: the cached one must not be used
    assert decoder.cached_signatures == 1
    assert decoder.decode(body(rs("m", a=0.5)), 100, 0, 2**62) is None
    assert decoder.decode(body(rs("m", a=0.05)), 100, 0, 2**62) is not None
    decoder.remove("n")
    assert decoder.cached_signatures == 1
    assert decoder.decode(body(rs("n", a=0.5)), 100, 0, 2**62) is None
