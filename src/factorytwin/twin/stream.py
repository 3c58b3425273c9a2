"""The stream hub: fans twin updates out to WebSocket clients, coalesced per machine, never stalled by a slow one.

Readings and state changes of a machine are merged and sent at most once per ``interval_s`` (the first update
after a quiet interval goes out at once, so latency stays low when a machine reports slowly). Alarms, events and
predictions are sent as they come. Each message is serialised once for all clients. Every client has a queue
bounded by bytes (and by message count): a client whose pending messages exceed either bound is dropped (its
connection closed with 1013) rather than slowing the others down or holding memory for a reader that never reads.
The byte bound is what matters for memory: 150 pending messages of 10 MB are 1.5 GB, 1000 small ones a few MB.
A single message larger than the byte bound still goes to a client that has nothing pending, so one large
snapshot does not drop a client that keeps up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from factorytwin.domain import Alarm, Event
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.prediction import Prediction
from factorytwin.twin.messages import (
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
DROPPED = None  # sentinel put in a dropped client's queue so its sender wakes up and closes


def _size(text: str) -> int:
    """UTF-8 size of a text (JSON from pydantic is mostly ASCII: then no copy is made)."""
    return len(text) if text.isascii() else len(text.encode())


class TooManySubscriptions(InvalidInput):
    """A subscription naming more machines than ``StreamHub.max_subscriptions``."""


class StreamClient:
    """One connected client: its subscription and its outgoing queue of JSON texts, bounded by count and bytes.

    ``pending_bytes`` counts the UTF-8 size of the texts queued and not yet taken by ``get`` (the sender).
    """

    def __init__(self, machines: set[str] | None, queue_size: int, max_bytes: int = DEFAULT_CLIENT_MAX_BYTES) -> None:
        self.machines = machines
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self.max_bytes = max_bytes
        self.pending_bytes = 0
        self.dropped = False
        self.dropped_event = asyncio.Event()  # lets the connection close even while a send is stuck

    def wants(self, machine_id: str) -> bool:
        """True when the client subscribed to this machine (or to all)."""
        return self.machines is None or machine_id in self.machines

    def offer(self, text: str) -> bool:
        """Queue a message; False (and the client marked dropped) when its queue is full by count or bytes."""
        if self.dropped:
            return False
        size = _size(text)
        if self.pending_bytes and self.pending_bytes + size > self.max_bytes:
            self._drop()
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self._drop()
            return False
        self.pending_bytes += size
        return True

    def _drop(self) -> None:
        self.dropped = True
        self.dropped_event.set()
        # Release the pending texts now: memory must not wait for the connection to finish closing.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.pending_bytes = 0
        self.queue.put_nowait(DROPPED)

    async def get(self) -> str | None:
        """The next text to send (``DROPPED`` once the client is dropped); it no longer counts as pending."""
        text = await self.queue.get()
        if text is not None:
            self.pending_bytes = max(0, self.pending_bytes - _size(text))
        return text


@dataclass(slots=True)
class _Pending:
    values: dict[str, float] = field(default_factory=dict)
    ts: datetime | None = None
    state: MachineState | None = None


SnapshotSource = Callable[[set[str] | None], SnapshotMessage]


class StreamHub:
    """Connected clients and the per-machine coalescing of updates."""

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
        self._pending: dict[str, _Pending] = {}
        self._last_sent: dict[str, float] = {}
        self._wakeup = asyncio.Event()
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

    def connect(self, machines: Iterable[str] | None = None) -> StreamClient:
        """Register a client and queue its snapshot first (nothing can slip in between: no await here).

        ``TooManySubscriptions`` when ``machines`` names more than ``max_subscriptions``: nothing is registered."""
        client = StreamClient(self.subscription(machines), self.queue_size, self.max_bytes)
        self.clients.add(client)
        self.offer(client, self._snapshot(client.machines).model_dump_json())
        return client

    def resubscribe(self, client: StreamClient, machines: Iterable[str] | None) -> None:
        """Change what a client follows; it gets a fresh snapshot of its new set.

        ``TooManySubscriptions`` above the cap; the client keeps its old subscription then."""
        client.machines = self.subscription(machines)
        self.offer(client, self._snapshot(client.machines).model_dump_json())

    def offer(self, client: StreamClient, text: str) -> bool:
        """Queue a message for one client; drop the client (and count it) when its queue is full."""
        if client.offer(text):
            self.sent_messages += 1
            return True
        if client in self.clients:
            self.clients.discard(client)
            self.dropped_clients += 1
            log.warning(
                "stream client dropped: more than %d messages or %d bytes were waiting for it",
                self.queue_size,
                self.max_bytes,
            )
        return False

    def disconnect(self, client: StreamClient) -> None:
        """Forget a client."""
        self.clients.discard(client)

    # -- coalesced updates -------------------------------------------------------------------------------------
    def reading(self, machine_id: str, ts: datetime, values: dict[str, float]) -> None:
        """New values of a machine (merged with any not yet sent)."""
        pending = self._pending.setdefault(machine_id, _Pending())
        pending.values.update(values)
        if pending.ts is None or ts > pending.ts:
            pending.ts = ts
        self._due(machine_id)

    def state(self, state: MachineState) -> None:
        """A machine's status or health changed (only the newest state is sent)."""
        self._pending.setdefault(state.machine_id, _Pending()).state = state
        self._due(state.machine_id)

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
            self._send(machine_id, ReadingMessage(machine_id=machine_id, ts=pending.ts, values=pending.values))
        if pending.state is not None:
            self._send(machine_id, StateMessage(state=pending.state))

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
        text: str | None = None
        for client in list(self.clients):
            if not client.wants(machine_id):
                continue
            if text is None:
                text = message.model_dump_json()
            self.offer(client, text)
