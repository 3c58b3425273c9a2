"""Store pieces without a database: URL dispatch, millisecond times, dictionary codes, query filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factorytwin.domain import AlarmSeverity, AlarmState, EventKind
from factorytwin.errors import InvalidInput
from factorytwin.store import AlarmQuery, EventQuery, ReadingColumns, open_store
from factorytwin.store._rows import bucket_start_ms, from_ms, to_ms
from factorytwin.store.codes import Dictionary, alarm_filter, event_filter
from factorytwin.store.postgres import PostgresStore
from factorytwin.store.sqlite import SQLiteStore


def test_open_store_picks_the_backend_by_url_scheme() -> None:
    sqlite = open_store("sqlite:///var/x.db")
    assert isinstance(sqlite, SQLiteStore)
    assert sqlite.path == Path("var/x.db")
    absolute = open_store("sqlite:////tmp/x.db")
    assert isinstance(absolute, SQLiteStore)
    assert absolute.path == Path("/tmp/x.db")
    assert isinstance(open_store("postgresql://u@h:5432/db"), PostgresStore)


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "sqlite:///", "/tmp/x.db"])
def test_an_unusable_url_is_refused_naming_the_forms_that_work(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite:///"):
        open_store(url)


# hypothesis takes naive bounds and attaches the time zone itself
_TIMES = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001


@given(_TIMES)
def test_millisecond_times_round_trip_to_the_millisecond(ts: datetime) -> None:
    assert from_ms(to_ms(ts)) == ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def test_times_with_an_offset_are_converted_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert to_ms(datetime(2026, 1, 1, 1, 0, tzinfo=cet)) == to_ms(datetime(2026, 1, 1, 0, 0, tzinfo=UTC))


@given(st.integers(0, 10**9), st.integers(1, 10**9), st.integers(1, 5000))
def test_buckets_start_where_their_first_timestamp_can_fall(start: int, span: int, points: int) -> None:
    # bucket(ts) = (ts - start) * points // span; the first ts of bucket i is never before bucket_start_ms(i)
    for index in (0, points // 2, points - 1):
        first = bucket_start_ms(start, span, points, index)
        assert first <= start + span
        assert (first - start) * points // span <= index


def test_dictionary_encodes_columns_and_names_every_unknown_id() -> None:
    codes = Dictionary()
    codes.load(machines=[("m1", 1), ("m2", 2)], sensors=[("torque", 1), ("power", 2)])
    cols = ReadingColumns(["m1", "m2"], ["power", "torque"], [1, 2], [0.5, 0.6])
    assert codes.encode(cols) == ([1, 2], [2, 1])
    bad = ReadingColumns(["m1", "m9"], ["power", "nope"], [1, 2], [0.5, 0.6])
    with pytest.raises(InvalidInput) as caught:
        codes.encode(bad)
    assert [p.loc for p in caught.value.problems] == [("readings", 1, "machine_id"), ("readings", 1, "sensor")]


def test_filters_use_each_backends_placeholders() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    query = EventQuery(machine_id="m1", kinds=[EventKind.FAULT, EventKind.NOTE], start=start)
    assert event_filter(query, "?") == (
        " WHERE machine_id = ? AND kind IN (?, ?) AND ts >= ?",
        ["m1", "fault", "note", to_ms(start)],
    )
    where, params = alarm_filter(AlarmQuery(states=[AlarmState.ACTIVE_ACK], severities=[AlarmSeverity.MINOR]), "$")
    assert where == " WHERE state IN ($1) AND severity IN ($2)"
    assert params == ["active_ack", "minor"]
    assert event_filter(EventQuery(), "?") == ("", [])
