"""MQTT ingest's settling of a group of messages, without a broker: reject for content, retry an outage, never halt.

The ingest service and the connection are fakes; the back-off sleeps are injected and only recorded, so nothing
here waits on the clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any, cast

import aiomqtt
import pytest
from paho.mqtt.properties import Properties

from factorytwin.config import Settings
from factorytwin.domain import Event, TelemetryBatch
from factorytwin.errors import FieldProblem, InvalidInput, Overloaded, StoreRejected, StoreUnavailable
from factorytwin.ingest.mqtt import MqttIngest
from factorytwin.ingest.service import IngestResult, IngestService
from factorytwin.mqtt import MqttConnection, MqttEndpoint
from factorytwin.mqttinbox import Inbound
from factorytwin.store.base import ReadingColumns

GOOD = {"machine_id": "mill-01", "ts": "2026-01-05T08:00:00Z", "values": {"torque": 40.0}}


class FakeIngest:
    """Answers each ``ingest`` with the next outcome: an exception to raise, or None to accept.

    ``validate`` refuses torque over 200, like the catalogue; a batch holding torque 150 the "store" refuses.
    """

    def __init__(self, outcomes: list[Exception | None]) -> None:
        self.outcomes: Iterator[Exception | None] = iter(outcomes)
        self.stored: list[TelemetryBatch] = []
        self.calls = 0
        self.validations: list[int] = []  # reading sets per validate call
        self.settings = Settings(max_batch_readings=3)

    def validate(self, batch: TelemetryBatch) -> tuple[ReadingColumns, list[Event]]:
        self.validations.append(len(batch.readings))
        if any(r.values.get("torque", 0.0) > 200 for r in batch.readings):
            raise InvalidInput([FieldProblem(("readings", 0, "values", "torque"), "outside the physical range")])
        cols = ReadingColumns()
        for r in batch.readings:
            cols.values += r.values.values()
        return cols, list(batch.events)

    async def ingest(
        self, batch: TelemetryBatch, validated: tuple[ReadingColumns, list[Event]] | None = None
    ) -> IngestResult:
        self.calls += 1
        if validated is not None:  # the merged columns are the batch's own
            assert len(validated[0]) == sum(len(r.values) for r in batch.readings)
        outcome = next(self.outcomes, None)
        if any(r.values.get("torque") == 150.0 for r in batch.readings):
            outcome = StoreRejected("the store cannot hold this")
        if outcome is not None:
            raise outcome
        self.stored.append(batch)
        return IngestResult(readings=sum(len(r.values) for r in batch.readings), new_readings=1, events=0)


class Harness:
    """An ``MqttIngest`` on a fake ingest service, with a connection whose publishes (dead letters) are recorded."""

    def __init__(self, outcomes: list[Exception | None], monkeypatch: pytest.MonkeyPatch) -> None:
        self.fake = FakeIngest(outcomes)
        self.delays: list[float] = []
        self.ingest = MqttIngest(MqttEndpoint("127.0.0.1"), cast(IngestService, self.fake), sleep=self.sleep)
        self.connection = MqttConnection(aiomqtt.Client("127.0.0.1", 1883, identifier="unit"), manual_ack=True)
        self.published: list[tuple[str, bytes, dict[str, str]]] = []
        monkeypatch.setattr(self.connection, "publish", self.publish)

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)

    async def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, properties: Properties | None = None
    ) -> None:
        pairs: list[tuple[str, str]] = getattr(properties, "UserProperty", [])
        body = payload if isinstance(payload, bytes) else payload.encode()
        self.published.append((topic, body, dict(pairs)))

    async def handle(self, *payloads: bytes, topic: str = "ft/mill-01/telemetry") -> None:
        messages = [Inbound(topic, p, 1, i + 1) for i, p in enumerate(payloads)]
        await self.ingest.handle(self.connection, messages)

    @property
    def counters(self) -> dict[str, Any]:
        return self.ingest.counters.as_dict()


def good(second: int = 0, torque: float = 40.0) -> bytes:
    return json.dumps({**GOOD, "ts": f"2026-01-05T08:00:{second:02d}Z", "values": {"torque": torque}}).encode()


async def test_good_messages_of_a_group_are_stored_together_and_a_bad_one_counted_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness([], monkeypatch)
    h.fake.settings = Settings(max_batch_readings=10)
    await h.handle(good(0), good(1, torque=999.0), good(2), good(3))
    assert h.fake.calls == 1  # one batch for the three good ones
    assert [len(b.readings) for b in h.fake.stored] == [3]
    assert h.counters["rejected"] == {"invalid": 1}
    assert h.counters["rejected_readings"] == 1  # once, not again for the batch it was part of
    assert h.counters["ingested_messages"] == 3


async def test_a_group_over_the_batch_cap_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness([], monkeypatch)
    await h.handle(*(good(i) for i in range(7)))
    assert [len(b.readings) for b in h.fake.stored] == [3, 3, 1]  # max_batch_readings is 3 here
    assert h.fake.validations == [3, 3, 1]  # all good: each batch validated once, not each message


async def test_when_the_store_refuses_a_group_only_the_culprit_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness([], monkeypatch)
    await h.handle(good(0), good(1, torque=150.0), good(2))
    assert [len(b.readings) for b in h.fake.stored] == [1, 1]
    assert h.counters["rejected"] == {"store_rejected": 1}
    assert h.counters["rejected_readings"] == 1
    assert h.counters["ingested_messages"] == 2


async def test_poison_in_a_group_is_rejected_and_dead_lettered_and_the_good_ones_are_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness([], monkeypatch)
    await h.handle(good(0), b"[" * 5000, b"\xff", good(1), b'{"machine_id": "mill-01\\u0000"}', good(2))
    assert sum(len(b.readings) for b in h.fake.stored) == 3
    assert h.counters["rejected"] == {"too_deep": 1, "bad_encoding": 1, "nul_character": 1}
    assert h.counters["rejected_messages"] == 3
    assert h.counters["ingested_messages"] == 3
    assert h.delays == []  # nothing was retried
    topics = {topic for topic, _, _ in h.published}
    assert topics == {"ft/_deadletter/mill-01/telemetry"}
    assert [props["reason"] for _, _, props in h.published] == ["too_deep", "bad_encoding", "nul_character"]
    assert h.published[1][1] == b"\xff"  # the raw payload, as received
    assert all(props["topic"] == "ft/mill-01/telemetry" for _, _, props in h.published)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (InvalidInput([FieldProblem(("readings", 0, "ts"), "before 1970")]), "invalid"),
        (StoreRejected("text may not contain NUL"), "store_rejected"),
    ],
)
async def test_a_content_error_of_the_store_or_the_domain_is_rejected_not_retried(
    error: Exception, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = Harness([error], monkeypatch)
    await h.handle(good(0))
    assert h.counters["rejected"] == {reason: 1}
    assert h.delays == []
    assert h.counters["store_retries"] == 0
    assert h.counters["dead_lettered"] == 1


@pytest.mark.parametrize(
    "outage", [StoreUnavailable("connection refused"), OSError("disk I/O error")], ids=["unavailable", "unexpected"]
)
async def test_an_outage_is_retried_with_back_off_until_the_message_is_stored(
    outage: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = Harness([outage, outage, outage], monkeypatch)
    await h.handle(good(0))
    assert len(h.fake.stored) == 1
    assert h.delays == [0.5, 1.0, 2.0]
    assert h.counters["store_retries"] == 3
    assert h.counters["rejected_messages"] == 0
    assert h.published == []


async def test_overload_waits_briefly_without_counting_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness([Overloaded("queue full")], monkeypatch)
    await h.handle(good(0))
    assert len(h.fake.stored) == 1
    assert h.delays == [0.05]
    assert h.counters["store_retries"] == 0


async def test_a_dead_letter_that_cannot_be_sent_is_counted_and_the_message_settled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness([], monkeypatch)

    async def broken(topic: str, payload: bytes | str, qos: int = 1, properties: Properties | None = None) -> None:
        raise aiomqtt.MqttError("broker gone")

    monkeypatch.setattr(h.connection, "publish", broken)
    await h.handle(b"not json", good(0))
    assert h.counters["dead_letter_failures"] == 1
    assert h.counters["dead_lettered"] == 0
    assert h.counters["rejected"] == {"not_json": 1}
    assert len(h.fake.stored) == 1


async def test_dead_letters_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness([], monkeypatch)
    h.ingest.dead_letter = False
    await h.handle(b"not json")
    assert h.published == []
    assert h.counters["rejected"] == {"not_json": 1}


def test_session_expiry_defaults_to_never_alone_and_two_minutes_in_a_share_group() -> None:
    service = cast(IngestService, FakeIngest([]))
    alone = MqttIngest(MqttEndpoint("127.0.0.1"), service)
    shared = MqttIngest(MqttEndpoint("127.0.0.1"), service, shared=True)
    assert alone.topic_filter == "ft/+/telemetry"
    assert alone.reconnector.options.session_expiry_s == 0xFFFFFFFF
    assert shared.topic_filter == "$share/factorytwin/ft/+/telemetry"
    assert shared.reconnector.options.session_expiry_s == 120
    assert alone.reconnector.options.persistent
    assert alone.reconnector.options.manual_ack


class BulkConnection:
    """A connection in bulk mode: ``take`` hands out the given groups, then ends the session as a lost broker."""

    def __init__(self, groups: list[list[Inbound]]) -> None:
        self.groups = groups
        self.acked: list[list[int]] = []
        self.lost = asyncio.Event()

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        pass

    async def take(self, limit: int) -> list[Inbound]:
        if self.groups:
            return self.groups.pop(0)
        await self.lost.wait()
        raise aiomqtt.MqttError("Disconnected during message iteration")

    def ack_all(self, messages: list[Inbound]) -> None:
        self.acked.append([m.mid for m in messages])

    def queued(self) -> int:
        return sum(len(g) for g in self.groups)


class GatedIngest(FakeIngest):
    """Holds the first batch's commit until ``release`` is set, so later groups settle before it."""

    def __init__(self) -> None:
        super().__init__([])
        self.release = asyncio.Event()
        self.waiting = False
        self.settings = Settings(max_batch_readings=100)

    async def ingest(
        self, batch: TelemetryBatch, validated: tuple[ReadingColumns, list[Event]] | None = None
    ) -> IngestResult:
        if not self.stored:
            self.waiting = True
            await self.release.wait()
        return await super().ingest(batch, validated)


async def _yield_until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run (no clock involved) until ``condition`` holds."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def _group(first_mid: int, n: int) -> list[Inbound]:
    return [Inbound("ft/mill-01/telemetry", good(first_mid + i), 1, first_mid + i) for i in range(n)]


async def test_groups_are_settled_while_earlier_ones_commit_and_acknowledged_in_order() -> None:
    fake = GatedIngest()
    ingest = MqttIngest(MqttEndpoint("127.0.0.1"), cast(IngestService, fake))
    connection = BulkConnection([_group(1, 2), _group(3, 2), _group(5, 1)])
    session = asyncio.ensure_future(ingest._session(cast(MqttConnection, connection)))
    await _yield_until(lambda: fake.waiting and len(ingest._inflight) == 3)  # all in hand, the first one held
    for _ in range(20):  # let the later groups settle as far as they can
        await asyncio.sleep(0)
    assert connection.acked == []  # nothing acknowledged before its commit, nor ahead of an earlier group
    fake.release.set()
    await _yield_until(lambda: len(connection.acked) == 3)
    assert connection.acked == [[1, 2], [3, 4], [5]]
    connection.lost.set()
    with pytest.raises(aiomqtt.MqttError):
        await session


async def test_groups_not_yet_settled_when_the_connection_drops_are_not_acknowledged() -> None:
    fake = GatedIngest()
    ingest = MqttIngest(MqttEndpoint("127.0.0.1"), cast(IngestService, fake))
    connection = BulkConnection([_group(1, 2), _group(3, 1)])
    session = asyncio.ensure_future(ingest._session(cast(MqttConnection, connection)))
    await _yield_until(lambda: len(ingest._inflight) == 2)
    connection.lost.set()
    with pytest.raises(aiomqtt.MqttError):
        await session
    assert connection.acked == []  # the broker sends them again to the next session
    assert not ingest._inflight
