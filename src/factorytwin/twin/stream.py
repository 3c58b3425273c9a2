"""The stream hub: fans twin updates out to WebSocket clients, coalesced per machine, never stalled by a slow one.

Readings and state changes of a machine are merged and sent at most once per ``interval_s`` (the first update
after a quiet interval goes out at once, so latency stays low when a machine reports slowly); a batch's new values
and the state change they caused go out together (``update``). Alarms, events and predictions are sent as they
come. Each message is serialised once for all clients.

What a machine's update costs does not grow with the machines a client does not watch: the hub keeps, per
machine, the clients watching it (and apart, those watching every machine), so an update nobody watches is
dropped at once (no coalescing entry, no message built), and one watched by a client of 50 machines reaches that
client only.

The snapshot streams: it is sent in parts of ``SNAPSHOT_PART_MACHINES`` machines (each with those machines'
active alarms; ``part`` counts from 0, ``last`` is true on the final one). The first part is queued when the client
connects (or resubscribes), so nothing slips in before it; each further part is built from the live state only when
the client's sender asks for its next text (``StreamClient.get``), so a 10,000-machine snapshot is never one 4 MB
message built in one go while the event loop waits. Updates queued meanwhile may concern machines of a later part:
that part, built later, is at least as new.

Every client has a queue bounded by bytes and by message count: a client whose pending messages exceed either
bound is dropped (its connection closed with 1013) rather than slowing the others down or holding memory for a
reader that never reads. The byte bound is what matters for memory: 150 pending messages of 10 MB are 1.5 GB,
1000 small ones a few MB. The count bound is ``queue_size`` plus two messages (a reading and a state) per machine
the client watches: a plant of 10,000 machines coming online at once is one burst of 20,000 messages for a client
watching all of it, which must not be taken for a slow reader. A single message larger than the byte bound still
goes to a client that has nothing pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from factorytwin.domain import Alarm, Event
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.prediction import Prediction
from factorytwin.twin.messages import (
    BATCH_MAX_MESSAGES,
    AlarmMessage,
    CommandStateMessage,
    CommandStatus,
    EventMessage,
    MachineState,
    PredictionMessage,
    ReadingMessage,
    SnapshotMessage,
    StateMessage,
)

log = logging.getLogger(__name__)

DEFAULT_CLIENT_QUEUE = 1000
DEFAULT_CLIENT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_SUBSCRIPTIONS = 1000
MESSAGES_PER_WATCHED_MACHINE = 2
"""Queue room per watched machine (a reading and a state), on top of ``queue_size``."""
SNAPSHOT_PART_MACHINES = 500
"""Machines per snapshot part (about 200 kB of JSON)."""
DROPPED = None  # sentinel put in a dropped client's queue so its sender wakes up and closes
BATCH_MAX_BYTES = 256 * 1024
"""A ``batch`` frame stops taking messages past about this many bytes (one message larger still goes alone)."""
_BATCH_HEAD = '{"type":"batch","messages":['


def _size(text: str) -> int:
    """UTF-8 size of a text (JSON from pydantic is mostly ASCII: then no copy is made)."""
    return len(text) if text.isascii() else len(text.encode())


class TooManySubscriptions(InvalidInput):
    """A subscription naming more machines than ``StreamHub.max_subscriptions``."""


class SnapshotSource(Protocol):
    """What the hub needs to stream a snapshot: the machine ids it covers, and one part of it."""

    def snapshot_ids(self, machines: set[str] | None) -> list[str]:
        """The ids of the subscribed machines (all when None) that the snapshot covers, in the order sent."""
        ...

    def snapshot_part(self, machine_ids: Sequence[str], part: int, last: bool) -> SnapshotMessage:
        """The state and active alarms of ``machine_ids``, as part ``part`` of a snapshot (the final one if
        ``last``)."""
        ...


class _SnapshotCursor:
    """The parts of a snapshot not sent yet."""

    __slots__ = ("ids", "next_part", "source")

    def __init__(self, source: SnapshotSource, ids: list[str]) -> None:
        self.source = source
        self.ids = ids
        self.next_part = 0

    @property
    def done(self) -> bool:
        return self.next_part * SNAPSHOT_PART_MACHINES >= len(self.ids) and self.next_part > 0

    def next_text(self) -> str:
        """The next part, built from the live state now."""
        start = self.next_part * SNAPSHOT_PART_MACHINES
        chunk = self.ids[start : start + SNAPSHOT_PART_MACHINES]
        last = start + SNAPSHOT_PART_MACHINES >= len(self.ids)
        text = self.source.snapshot_part(chunk, self.next_part, last).model_dump_json()
        self.next_part += 1
        return text


class StreamClient:
    """One connected client: its subscription and its outgoing queue of JSON texts, bounded by count and bytes.

    ``pending_bytes`` counts the UTF-8 size of the texts queued and not yet taken by ``get`` (the sender).
    """

    def __init__(
        self,
        machines: set[str] | None,
        queue_size: int,
        max_bytes: int = DEFAULT_CLIENT_MAX_BYTES,
        batch: bool = False,
    ) -> None:
        self.machines = machines
        self.batch = batch
        """True: what is waiting when the sender asks goes out as one ``batch`` message (``BatchMessage``)."""
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.max_messages = queue_size
        self.max_bytes = max_bytes
        self.pending_bytes = 0
        self.dropped = False
        self.dropped_event = asyncio.Event()  # lets the connection close even while a send is stuck
        self.snapshot: _SnapshotCursor | None = None
        """The rest of the snapshot being streamed (its parts are built as ``get`` is asked for them)."""
        self._ahead = 0  # queued texts to send before the snapshot's next part: its first part and what preceded it

    def wants(self, machine_id: str) -> bool:
        """True when the client subscribed to this machine (or to all)."""
        return self.machines is None or machine_id in self.machines

    def offer(self, text: str) -> bool:
        """Queue a message; False (and the client marked dropped) when its queue is full by count or bytes."""
        if self.dropped:
            return False
        size = _size(text)
        if (self.pending_bytes and self.pending_bytes + size > self.max_bytes) or (
            self.queue.qsize() >= self.max_messages
        ):
            self._drop()
            return False
        self.queue.put_nowait(text)
        self.pending_bytes += size
        return True

    def start_snapshot(self, cursor: _SnapshotCursor) -> bool:
        """Queue the first part of a snapshot (the rest follows through ``get``); False when that drops it."""
        queued = self.offer(cursor.next_text())
        self.snapshot = None if cursor.done or not queued else cursor
        self._ahead = self.queue.qsize()
        return queued

    def _drop(self) -> None:
        self.dropped = True
        self.dropped_event.set()
        self.snapshot = None
        # Release the pending texts now: memory must not wait for the connection to finish closing.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.pending_bytes = 0
        self.queue.put_nowait(DROPPED)

    async def get(self) -> str | None:
        """The next text to send (``DROPPED`` once the client is dropped); it no longer counts as pending.

        While a snapshot streams, its further parts come right after its first (and what was queued before that),
        ahead of the updates queued since: the client has a whole picture soon, and each part is built from the
        state as it is when the part is sent, so it is at least as new as those updates."""
        cursor = self.snapshot
        if cursor is not None and self._ahead <= 0 and not self.dropped:
            part = cursor.next_text()
            if cursor.done:
                self.snapshot = None
            return part
        text = await self.queue.get()
        ahead, self._ahead = self._ahead, self._ahead - 1
        if text is None:
            return text
        size = _size(text)
        self.pending_bytes = max(0, self.pending_bytes - size)
        if self.batch and ahead <= 0 and self.snapshot is None and not self.queue.empty():
            return self._batch(text, size)
        return text

    def _batch(self, first: str, size: int) -> str:
        """``first`` and what else is queued now (up to ``BATCH_MAX_MESSAGES``, about ``BATCH_MAX_BYTES``) as one
        ``batch`` text: the texts are joined as they are, nothing is serialised again. Never while a snapshot's
        first part or what preceded it is still queued (``_ahead``): those go one by one, so a client sees the
        snapshot's start as its own message."""
        texts = [first]
        queue = self.queue
        while len(texts) < BATCH_MAX_MESSAGES and size < BATCH_MAX_BYTES and not queue.empty():
            text = queue.get_nowait()
            self._ahead -= 1
            if text is None:  # cannot happen (a drop empties the queue first); keep the sentinel's meaning
                queue.put_nowait(None)
                break
            n = _size(text)
            size += n
            self.pending_bytes = max(0, self.pending_bytes - n)
            texts.append(text)
        if len(texts) == 1:
            return first
        return _BATCH_HEAD + ",".join(texts) + "]}"


@dataclass(slots=True)
class _Pending:
    values: dict[str, float] = field(default_factory=dict)
    ts: datetime | None = None
    state: MachineState | None = None


class StreamHub:
    """Connected clients, who watches which machine, and the per-machine coalescing of updates."""

    def __init__(
        self,
        interval_s: float,
        snapshot: SnapshotSource,
        queue_size: int = DEFAULT_CLIENT_QUEUE,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int = DEFAULT_CLIENT_MAX_BYTES,
        max_subscriptions: int = DEFAULT_MAX_SUBSCRIPTIONS,
    ) -> None:
        self.interval_s = interval_s
        self._snapshot = snapshot
        self.queue_size = queue_size
        self.max_bytes = max_bytes
        self.max_subscriptions = max_subscriptions
        self._clock = clock
        self.clients: set[StreamClient] = set()
        self._all: set[StreamClient] = set()  # clients watching every machine
        self._watching: dict[str, set[StreamClient]] = {}  # machine -> the other clients watching it
        self._pending: dict[str, _Pending] = {}
        self._last_sent: dict[str, float] = {}
        self._wakeup = asyncio.Event()
        self.plant_size = 0
        """Machines in the plant (set by the twin): the queue room of a client watching all of them."""
        self.dropped_clients = 0
        self.sent_messages = 0

    def subscription(self, machines: Iterable[str] | None) -> set[str] | None:
        """``machines`` as a subscription set; ``TooManySubscriptions`` (field ``machines``) above the cap.

        Callers that parse a client's request should check ``max_subscriptions`` on the raw list first, so that a
        huge list is refused before anything is built from it; this is the hub's own guard.
        """
        if machines is None:
            return None
        wanted = set(machines)
        if len(wanted) > self.max_subscriptions:
            problem = FieldProblem(("machines",), f"at most {self.max_subscriptions} machines per subscription")
            raise TooManySubscriptions([problem])
        return wanted

    def connect(self, machines: Iterable[str] | None = None, batch: bool = False) -> StreamClient:
        """Register a client and queue its snapshot's first part first (nothing can slip in between: no await here).

        ``batch``: the client takes what is waiting for it as one ``batch`` message (``StreamClient.batch``).
        ``TooManySubscriptions`` when ``machines`` names more than ``max_subscriptions``: nothing is registered."""
        client = StreamClient(self.subscription(machines), self.queue_size, self.max_bytes, batch)
        self.clients.add(client)
        self._watch(client)
        self._start_snapshot(client)
        return client

    def resubscribe(self, client: StreamClient, machines: Iterable[str] | None) -> None:
        """Change what a client follows; it gets a fresh snapshot of its new set.

        ``TooManySubscriptions`` above the cap; the client keeps its old subscription then."""
        wanted = self.subscription(machines)
        self._unwatch(client)
        client.machines = wanted
        if client in self.clients:
            self._watch(client)
        self._start_snapshot(client)

    def _start_snapshot(self, client: StreamClient) -> None:
        cursor = _SnapshotCursor(self._snapshot, self._snapshot.snapshot_ids(client.machines))
        if client.start_snapshot(cursor):
            self.sent_messages += 1
        else:
            self._forget_dropped(client)

    def _watch(self, client: StreamClient) -> None:
        if client.machines is None:
            self._all.add(client)
        else:
            for machine_id in client.machines:
                self._watching.setdefault(machine_id, set()).add(client)
        self._resize(client)

    def _unwatch(self, client: StreamClient) -> None:
        self._all.discard(client)
        for machine_id in client.machines or ():
            watchers = self._watching.get(machine_id)
            if watchers is not None:
                watchers.discard(client)
                if not watchers:
                    del self._watching[machine_id]

    def _resize(self, client: StreamClient) -> None:
        watched = self.plant_size if client.machines is None else len(client.machines)
        client.max_messages = self.queue_size + MESSAGES_PER_WATCHED_MACHINE * watched

    def set_plant_size(self, machines: int) -> None:
        """The plant now has ``machines`` machines: the queue room of the clients watching all of it follows."""
        self.plant_size = machines
        for client in self._all:
            self._resize(client)

    def watched(self, machine_id: str) -> bool:
        """True when some client watches this machine (else its updates need not be built at all)."""
        return bool(self._all) or machine_id in self._watching

    def offer(self, client: StreamClient, text: str) -> bool:
        """Queue a message for one client; drop the client (and count it) when its queue is full."""
        if client.offer(text):
            self.sent_messages += 1
            return True
        self._forget_dropped(client)
        return False

    def _forget_dropped(self, client: StreamClient) -> None:
        if client in self.clients:
            self.disconnect(client)
            self.dropped_clients += 1
            log.warning(
                "stream client dropped: more than %d messages or %d bytes were waiting for it",
                client.max_messages,
                self.max_bytes,
            )

    def disconnect(self, client: StreamClient) -> None:
        """Forget a client."""
        self.clients.discard(client)
        self._unwatch(client)

    # -- coalesced updates -------------------------------------------------------------------------------------
    def update(
        self, machine_id: str, ts: datetime | None, values: dict[str, float] | None, state: MachineState | None
    ) -> None:
        """New values of a machine (merged with any not yet sent) and/or its new state (only the newest is sent);
        both go out together. Nothing at all happens for a machine nobody watches."""
        if not self.watched(machine_id):
            return
        pending = self._pending.get(machine_id)
        if pending is None:
            pending = self._pending[machine_id] = _Pending()
        if values and ts is not None:
            pending.values.update(values)
            if pending.ts is None or ts > pending.ts:
                pending.ts = ts
        if state is not None:
            pending.state = state
        self._due(machine_id)

    def reading(self, machine_id: str, ts: datetime, values: dict[str, float]) -> None:
        """New values of a machine (merged with any not yet sent)."""
        self.update(machine_id, ts, values, None)

    def state(self, state: MachineState) -> None:
        """A machine's status or health changed (only the newest state is sent)."""
        self.update(state.machine_id, None, None, state)

    def _due(self, machine_id: str) -> None:
        now = self._clock()
        if now - self._last_sent.get(machine_id, float("-inf")) >= self.interval_s:
            self._flush_machine(machine_id, now)
        else:
            self._wakeup.set()

    def _flush_machine(self, machine_id: str, now: float) -> None:
        pending = self._pending.pop(machine_id, None)
        if pending is None:
            return
        self._last_sent[machine_id] = now
        if pending.values and pending.ts is not None:
            message = ReadingMessage.model_construct(machine_id=machine_id, ts=pending.ts, values=pending.values)
            self._send(machine_id, message)  # built without validation: the twin's own validated values
        if pending.state is not None:
            self._send(machine_id, StateMessage.model_construct(state=pending.state))

    def flush_due(self) -> float | None:
        """Send every pending update whose interval has passed; return seconds until the next is due."""
        now = self._clock()
        next_due: float | None = None
        for machine_id in list(self._pending):
            due = self._last_sent.get(machine_id, float("-inf")) + self.interval_s
            if due <= now:
                self._flush_machine(machine_id, now)
            else:
                wait = due - now
                next_due = wait if next_due is None else min(next_due, wait)
        return next_due

    async def run(self) -> None:
        """Flush coalesced updates as they fall due, until cancelled."""
        while True:
            wait = self.flush_due()
            self._wakeup.clear()
            if wait is None:
                await self._wakeup.wait()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait)

    # -- immediate messages ------------------------------------------------------------------------------------
    def alarm(self, alarm: Alarm) -> None:
        """An alarm changed."""
        self._send(alarm.machine_id, AlarmMessage(alarm=alarm))

    def event(self, event: Event) -> None:
        """An event-log entry."""
        self._send(event.machine_id, EventMessage(event=event))

    def command(self, status: CommandStatus) -> None:
        """A command moved in its lifecycle."""
        self._send(status.command.machine_id, CommandStateMessage(status=status))

    def prediction(self, machine_id: str, prediction: Prediction) -> None:
        """A new failure prediction."""
        self._send(machine_id, PredictionMessage(machine_id=machine_id, prediction=prediction))

    def broadcast(self, message: BaseModel) -> None:
        """A message for every client, whatever machines it follows (the plant itself changed)."""
        text = message.model_dump_json()
        for client in list(self.clients):
            self.offer(client, text)

    def _send(self, machine_id: str, message: BaseModel) -> None:
        """To the clients watching all and those watching this machine: no look at any other client."""
        some = self._watching.get(machine_id)
        if not self._all and not some:
            return
        text = message.model_dump_json()
        for client in [*self._all, *(some or ())]:
            self.offer(client, text)
