"""The twin service: live state, health, alarms, stream, bus and commands, fed by the ingest listener.

A batch travels: ingest (committed) -> ``on_ingested`` -> state, alarm rules, health -> stream hub (WebSocket
clients of this process) and, with a distributed bus, to the other processes, which apply it to their own state.
Alarm rules run only in the process that ingested the batch; alarm changes travel the bus too. Alarm writes to
the store happen in a background task so the ingest path never waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from factorytwin.config import Settings
from factorytwin.domain import (
    MAX_EVENT_MESSAGE_CHARS,
    Alarm,
    AlarmState,
    Command,
    CommandMessage,
    Event,
    EventKind,
    Machine,
    SpecsOf,
    TelemetryBatch,
    unstorable_text,
)
from factorytwin.errors import FieldProblem, InvalidInput, NotFound, StoreRejected, StoreUnavailable
from factorytwin.mqtt import MqttEndpoint
from factorytwin.prediction import Prediction
from factorytwin.store.base import MAX_LIST_LIMIT, AlarmQuery, Store
from factorytwin.twin.alarms import SYSTEM, AlarmEngine, is_active
from factorytwin.twin.bus import DROP_REASONS, BusEvent, EventBus, InProcessBus, MqttBus, latest_readings
from factorytwin.twin.busguard import BusGuard
from factorytwin.twin.commands import CommandDispatcher, CommandLedger, describe
from factorytwin.twin.health import health_score
from factorytwin.twin.messages import (
    CommandState,
    CommandStatus,
    MachineChangedMessage,
    MachineState,
    SnapshotMessage,
)
from factorytwin.twin.operating import AlarmTuning, RuleTuning
from factorytwin.twin.rules import SEVERITY_RANK, Finding, evaluate, offline_finding
from factorytwin.twin.state import LiveMachine, MachineUpdate, TwinState, ms_to_datetime
from factorytwin.twin.stream import StreamHub

log = logging.getLogger(__name__)

OUTBOX_MAX = 10_000
COALESCE_MAX_BATCHES = 100
"""At most this many committed batches' telemetry in one bus message (``latest_readings`` of them: its readings
are bounded by the plant's sensors; its events are not, hence a bound)."""
SAVE_RETRY_S = 1.0
"""Seconds between attempts to save alarms while the store is unavailable."""
MAX_ALARMS_LOADED = 10_000


class CommandResult(BaseModel):
    """The answer to POST /machines/{id}/commands: where the command is now (``state``); its later states
    (applied, refused, timed out) follow on the stream as ``command`` messages."""

    command: CommandMessage
    delivered: bool
    state: CommandState = Field(description="pending, delivered, applied, refused, timed_out or undelivered")
    outcome: str
    answer: str | None = Field(default=None, description="the machine's own answer, when it gave one already")
    event_id: int | None = Field(description="the command's event, when the twin wrote it (not while delivered)")


class TwinService:
    """One process's live twin."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: EventBus | None = None,
        clock: Callable[[], datetime] | None = None,
        specs_of: SpecsOf | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))  # wall time of operators' steps (tests inject one)
        if bus is None:
            bus = MqttBus(MqttEndpoint.from_settings(settings)) if settings.mqtt_url else InProcessBus()
        self.bus = bus
        self.state = TwinState(time_scale=settings.time_scale, specs_of=specs_of)
        self.alarms = AlarmEngine(time_scale=settings.time_scale)
        self.tuning = AlarmTuning(
            RuleTuning(
                on_delay_s=settings.alarm_on_delay_s,
                off_delay_s=settings.alarm_off_delay_s,
                deadband=settings.alarm_deadband,
            )
        )
        self.hub = StreamHub(
            settings.stream_interval_s,
            self,
            max_bytes=settings.stream_client_max_bytes,
            max_subscriptions=settings.stream_max_subscriptions,
        )
        self.commands = CommandDispatcher(bus.link if isinstance(bus, MqttBus) else None)
        self.ledger = CommandLedger(settings.command_timeout_s)
        self._dirty: dict[int, Alarm] = {}
        self._dirty_event = asyncio.Event()
        self._saved_event = asyncio.Event()  # set whenever a dirty alarm was saved: ``idle`` waits on it
        self._save_lock = asyncio.Lock()
        self._outbox: asyncio.Queue[BusEvent] = asyncio.Queue(maxsize=OUTBOX_MAX)
        self._tasks: list[asyncio.Task[None]] = []
        self.bus_dropped = 0

    # -- life cycle --------------------------------------------------------------------------------------------
    async def start(self, machines: Sequence[Machine] | None = None) -> None:
        """Take the plant's ``machines`` (read from the store when None) and the store's active alarms, connect the
        bus, start the background tasks. The composition root passes the machines it has just read, so a plant of
        10,000 machines is not read and validated twice at start-up."""
        if machines is None:
            machines = await self.store.machines()
        self.state.register(machines)
        self.hub.set_plant_size(len(self.state.machines))
        self.tuning.register(machines, self.state.specs_of)
        self.alarms.load(await self._stored_active_alarms())
        for live in self.state.machines.values():
            self._refresh_health(live)
        if isinstance(self.bus, MqttBus):  # anyone on the broker can publish to the bus: check what comes in
            self.bus.guard = self._bus_guard()
        self.bus.subscribe(self._on_bus)
        await self.bus.start()
        for coro, name in (
            (self.hub.run(), "ft-stream-hub"),
            (self._offline_watch(), "ft-offline-watch"),
            (self._persist_loop(), "ft-alarm-writer"),
            (self._bus_sender(), "ft-bus-sender"),
        ):
            self._tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        """Save pending alarm changes, stop the tasks, disconnect the bus."""
        await self._save_dirty()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.bus.stop()

    def _bus_guard(self) -> BusGuard:
        specs = {mid: live.specs for mid, live in self.state.machines.items()}
        return BusGuard(specs, self.settings.max_future_skew_s, self.settings.min_timestamp)

    # -- the plant changes -------------------------------------------------------------------------------------
    def machine_changed(
        self, op: Literal["created", "updated", "deleted"], machine_id: str, machine: Machine | None
    ) -> None:
        """A machine was provisioned, changed or deleted: take it into (or out of) the live state and tell every
        stream client."""
        if machine is None:
            for alarm in self.alarms.alarms([machine_id]):  # a deleted machine's alarms end with it
                if self.alarms.clear(alarm, SYSTEM, self.clock()):
                    self._mark_dirty(alarm)
                    self.hub.alarm(alarm)
            self.state.remove(machine_id)
            self.tuning.set_machine(machine_id, {})
        else:
            self.state.register([machine])
            self.tuning.register([machine], self.state.specs_of)
            self._refresh_health(self.state.machines[machine.id], force=True)
        self.hub.set_plant_size(len(self.state.machines))
        if isinstance(self.bus, MqttBus):
            self.bus.guard = self._bus_guard()
        self.hub.broadcast(MachineChangedMessage(op=op, machine_id=machine_id, machine=machine))

    # -- input -------------------------------------------------------------------------------------------------
    async def on_ingested(self, batch: TelemetryBatch, new_readings: int) -> None:
        """The ingest listener: fold a committed batch into the twin (quick: nothing here waits for I/O)."""
        if new_readings == 0 and not batch.events:
            return  # a resent batch: nothing new to show
        updates = self.state.apply(batch, self.clock(), time.monotonic())
        self._handle(updates, evaluate_alarms=True)
        if self.bus.distributed:
            self._enqueue(BusEvent("telemetry", self.bus.origin, batch))  # coalesced by the sender

    def _handle(self, updates: list[MachineUpdate], evaluate_alarms: bool) -> None:
        hub = self.hub
        for upd in updates:
            live = self.state.machines[upd.machine_id]
            for event in upd.events:
                hub.event(event)
                if event.kind is EventKind.COMMAND and len(self.ledger):
                    answered = self.ledger.answer(event, self.clock())
                    if answered is not None:
                        hub.command(answered)
            values_ts = ms_to_datetime(upd.ts_ms) if upd.ts_ms is not None else None  # once, for rules and stream
            if evaluate_alarms:
                ts = values_ts if values_ts is not None else self.clock()
                for alarm in self.alarms.apply(upd.machine_id, self.findings(live, upd), ts):
                    self._mark_dirty(alarm)
            changed = self._health_changed(live, force=upd.status_changed or upd.setpoint_changed)
            if not hub.watched(upd.machine_id):
                continue  # nobody to tell: no message is built
            has_values = bool(upd.values) and values_ts is not None
            if has_values or changed:
                # the new values and the state they caused go out together (one coalescing step, not two)
                hub.update(
                    upd.machine_id, values_ts if has_values else None, upd.values, live.to_state() if changed else None
                )

    def findings(self, live: LiveMachine, upd: MachineUpdate) -> list[Finding]:
        """The alarm rules' verdicts on one machine's update, at its operating point and with its tuning."""
        machine_id = live.machine_id
        return evaluate(
            live.specs,
            live.status,
            upd.observations,
            self.alarms.alarmed_sensors(machine_id),
            speed_pct=live.speed_pct,
            tuning_of=lambda rule_type: self.tuning.of(machine_id, rule_type),
            failure_mode=live.failure_mode,
        )

    def _health_changed(self, live: LiveMachine, force: bool = False) -> bool:
        """Score the machine's health again; True when its state should be sent (health changed, or ``force``)."""
        health = health_score(
            live.specs,
            live.values,
            self.alarms.severities(live.machine_id, self.clock()),
            live.status,
            live.failure_probability,
            speed_pct=live.speed_pct,
        )
        if force or health != live.health:
            live.health = health
            return True
        return False

    def _refresh_health(self, live: LiveMachine, force: bool = False) -> None:
        if self._health_changed(live, force) and self.hub.watched(live.machine_id):
            self.hub.state(live.to_state())

    async def _on_bus(self, event: BusEvent) -> None:
        if event.origin == self.bus.origin:
            return  # applied already when it happened here
        payload = event.payload
        if isinstance(payload, TelemetryBatch):
            self._handle(self.state.apply(payload, self.clock(), time.monotonic()), evaluate_alarms=False)
        elif isinstance(payload, Alarm):
            self.alarms.merge(payload)
            self.hub.alarm(payload)
            live = self.state.machines.get(payload.machine_id)
            if live is not None:
                self._refresh_health(live)
        elif isinstance(payload, Event):
            self.hub.event(payload)
        elif isinstance(payload, Prediction):
            self._apply_prediction(payload)
        # a PlantChanged is the plant sync's (api.lifespan.plant_sync_lifespan), not the twin's

    # -- predictions (from the ML service) ---------------------------------------------------------------------
    async def publish_prediction(self, prediction: Prediction) -> None:
        """Show a new prediction of ``prediction.machine_id`` in its health and on the stream (and the bus)."""
        self._apply_prediction(prediction)
        if self.bus.distributed:
            self._enqueue(BusEvent("prediction", self.bus.origin, prediction))

    def _apply_prediction(self, prediction: Prediction) -> None:
        machine_id = prediction.machine_id
        live = self.state.machines.get(machine_id) if machine_id is not None else None
        if machine_id is None or live is None:
            return
        live.failure_probability = prediction.probability
        self.hub.prediction(machine_id, prediction)
        self._refresh_health(live)

    # -- offline watch -----------------------------------------------------------------------------------------
    async def _offline_watch(self) -> None:
        period = min(1.0, self.settings.offline_after_s / 4)
        while True:
            await asyncio.sleep(period)
            try:
                self.check_offline()
                self.expire_shelves()
                await self.expire_commands()
            except Exception:  # keep watching whatever one round did
                log.exception("offline watch failed")

    def check_offline(self, now_mono: float | None = None) -> list[str]:
        """Mark machines silent for ``offline_after_s`` offline and raise their alarm; return their ids."""
        now_mono = time.monotonic() if now_mono is None else now_mono
        gone = self.state.silent_since(now_mono, self.settings.offline_after_s)
        now = self.clock()
        for live in gone:
            silent = now_mono - (live.last_seen_mono or now_mono)
            for alarm in self.alarms.apply(live.machine_id, [offline_finding(silent)], now):
                self._mark_dirty(alarm)
            self._refresh_health(live, force=True)
        return [live.machine_id for live in gone]

    def expire_shelves(self) -> list[Alarm]:
        """Take expired shelves off (the alarms are shown again and count in health); return those alarms."""
        expired = self.alarms.expire_shelves(self.clock())
        for alarm in expired:
            self._mark_dirty(alarm)
        return expired

    # -- alarm persistence -------------------------------------------------------------------------------------
    def _mark_dirty(self, alarm: Alarm) -> None:
        self._dirty[id(alarm)] = alarm
        self._dirty_event.set()

    async def _persist_loop(self) -> None:
        store_down = False  # an outage is told once when it starts and once when it ends, not every retry
        while True:
            await self._dirty_event.wait()
            self._dirty_event.clear()
            try:
                await self._save_dirty()
            except StoreUnavailable as exc:
                if not store_down:
                    log.warning("store unavailable, alarms are kept and saved when it is back: %s", exc)
                    store_down = True
            except Exception:
                log.exception("could not save alarms; will retry")
            else:
                if store_down:
                    log.warning("store back: the alarms kept during the outage are saved")
                    store_down = False
                continue
            await asyncio.sleep(SAVE_RETRY_S)
            self._dirty_event.set()

    async def _save_dirty(self) -> None:
        while self._dirty:
            key = next(iter(self._dirty))
            alarm = self._dirty[key]
            try:
                await self._save(alarm)
            except StoreRejected as exc:  # retrying cannot help; it must not hold back the alarms behind it
                log.error(
                    "alarm %s of %s cannot be stored and is kept in memory only: %s", alarm.type, alarm.machine_id, exc
                )
            if self._dirty.get(key) is alarm:
                del self._dirty[key]
                self._saved_event.set()

    async def _save(self, alarm: Alarm) -> None:
        async with self._save_lock:
            if alarm.id is None:
                await self._adopt_stored_twin(alarm)
            saved = await self.store.save_alarm(alarm)
            alarm.id = saved.id
        if not is_active(alarm):
            self.alarms.remember(alarm)
        self.hub.alarm(alarm)
        live = self.state.machines.get(alarm.machine_id)
        if live is not None:
            self._refresh_health(live)
        if self.bus.distributed:
            self._enqueue(BusEvent("alarm", self.bus.origin, alarm.model_copy()))

    async def _adopt_stored_twin(self, alarm: Alarm) -> None:
        """Another instance may have raised the same alarm a moment ago: update its row rather than add one."""
        active = [AlarmState.ACTIVE_UNACK, AlarmState.ACTIVE_ACK]
        for stored in await self.store.alarms(AlarmQuery(machine_id=alarm.machine_id, states=active)):
            if stored.type == alarm.type and is_active(alarm):
                alarm.id, alarm.raised_at = stored.id, min(stored.raised_at, alarm.raised_at)
                alarm.state, alarm.acked_at, alarm.acked_by = stored.state, stored.acked_at, stored.acked_by
                if SEVERITY_RANK[stored.severity] > SEVERITY_RANK[alarm.severity]:
                    alarm.severity, alarm.message = stored.severity, stored.message
                return

    # -- bus output --------------------------------------------------------------------------------------------
    def _enqueue(self, event: BusEvent) -> None:
        try:
            self._outbox.put_nowait(event)
        except asyncio.QueueFull:
            self.bus_dropped += 1

    async def _bus_sender(self) -> None:
        """Publish the outbox in order; the telemetry events waiting one after the other go as one, with only the
        latest value of each sensor (``latest_readings``): the more the sender lags, the less it sends."""
        while True:
            events = [await self._outbox.get()]
            if events[0].type == "telemetry":
                batches = [self._telemetry(events[0])]
                held: BusEvent | None = None
                while not self._outbox.empty() and len(batches) < COALESCE_MAX_BATCHES:
                    event = self._outbox.get_nowait()
                    if event.type != "telemetry":
                        held = event  # an alarm, say: after the telemetry before it, as it came
                        break
                    batches.append(self._telemetry(event))
                taken = len(batches) + (held is not None)
                events = [BusEvent("telemetry", self.bus.origin, latest_readings(batches))]
                events += [held] if held is not None else []
            else:
                taken = 1
            try:
                for event in events:
                    try:
                        await self.bus.publish(event)
                    except Exception:
                        log.exception("bus: could not publish a %s event", event.type)
            finally:
                for _ in range(taken):
                    self._outbox.task_done()

    @staticmethod
    def _telemetry(event: BusEvent) -> TelemetryBatch:
        if not isinstance(event.payload, TelemetryBatch):  # the outbox's telemetry events are built here
            raise TypeError(f"a telemetry bus event carries a {type(event.payload).__name__}")
        return event.payload

    async def idle(self) -> None:
        """Return once every alarm change is saved and every queued bus event is published.

        The background work of a batch is done when this returns, so tests await it instead of sleeping.
        """
        while True:
            await self._outbox.join()
            if not self._dirty:
                return
            self._saved_event.clear()  # no await since the check: a save cannot slip in between
            await self._saved_event.wait()

    # -- REST-facing operations --------------------------------------------------------------------------------
    def snapshot(self, machines: set[str] | None) -> SnapshotMessage:
        """The state of the given machines (all when None) and their active alarms, in one message."""
        return self.snapshot_part(self.snapshot_ids(machines), 0, True)

    def snapshot_ids(self, machines: set[str] | None) -> list[str]:
        """The known machines of a subscription (all when None), in id order: what a snapshot covers."""
        known = self.state.machines
        return sorted(known) if machines is None else sorted(m for m in machines if m in known)

    def snapshot_part(self, machine_ids: Sequence[str], part: int, last: bool) -> SnapshotMessage:
        """Part ``part`` of a snapshot: the state and active alarms of ``machine_ids`` (the hub streams a large
        snapshot in parts, building each when it is about to be sent)."""
        return SnapshotMessage(
            machines=self.state.states(machine_ids),
            alarms=self.alarms.alarms(machine_ids),
            part=part,
            last=last,
        )

    def machine_state(self, machine_id: str) -> MachineState | None:
        """The live state of one machine, or None when unknown."""
        live = self.state.machines.get(machine_id)
        return live.to_state() if live is not None else None

    async def _stored_active_alarms(self) -> list[Alarm]:
        """The store's active alarms (up to MAX_ALARMS_LOADED), read page by page, newest first."""
        active = [AlarmState.ACTIVE_UNACK, AlarmState.ACTIVE_ACK]
        out: list[Alarm] = []
        query = AlarmQuery(states=active, limit=MAX_LIST_LIMIT)
        while len(out) < MAX_ALARMS_LOADED:
            page = await self.store.alarms(query)
            out += page
            if len(page) < query.limit:
                break
            last = page[-1]
            query = query.model_copy(update={"before": last.raised_at, "before_id": last.id})
        return out[:MAX_ALARMS_LOADED]

    async def _lookup(self, alarm_id: int, by: str) -> Alarm:
        # Checked before the alarm changes in memory: a name no store can hold would otherwise stay on the alarm
        # and fail every later save of it.
        if (problem := unstorable_text(by)) is not None:
            raise InvalidInput([FieldProblem(("body", "by"), problem, by)])
        # In memory (active or cleared recently), else one indexed read of the store by id.
        alarm = self.alarms.find(alarm_id) or await self.store.alarm(alarm_id)
        if alarm is None:
            raise NotFound(f"no alarm with id {alarm_id}")
        return alarm

    async def acknowledge(self, alarm_id: int, by: str) -> Alarm:
        """Acknowledge an alarm (recording who and when); NotFound if there is no such alarm."""
        alarm = await self._lookup(alarm_id, by)
        if self.alarms.acknowledge(alarm, by, self.clock()):
            await self._save(alarm)
        return alarm

    async def clear(self, alarm_id: int, by: str) -> Alarm:
        """Clear an alarm by hand (recording who and when); NotFound if there is no such alarm."""
        alarm = await self._lookup(alarm_id, by)
        if self.alarms.clear(alarm, by, self.clock()):
            await self._save(alarm)
        return alarm

    async def shelve(self, alarm_id: int, by: str, until: datetime, reason: str) -> Alarm:
        """Set an active alarm aside until ``until`` with a reason; InvalidInput naming the field when it cannot be
        (cleared already, an expiry not in the future or too far ahead, unstorable text)."""
        alarm = await self._lookup(alarm_id, by)
        if (problem := unstorable_text(reason)) is not None:
            raise InvalidInput([FieldProblem(("body", "reason"), problem, reason)])
        if not is_active(alarm):
            raise InvalidInput([FieldProblem(("path", "alarm_id"), "a cleared alarm cannot be shelved", alarm_id)])
        try:
            self.alarms.shelve(alarm, until, reason, by, self.clock())
        except ValueError as exc:
            raise InvalidInput([FieldProblem(("body", "until"), str(exc), until.isoformat())]) from None
        await self._save(alarm)
        return alarm

    async def unshelve(self, alarm_id: int, by: str) -> Alarm:
        """Take an alarm off its shelf before its expiry (nothing changes when it was not shelved)."""
        alarm = await self._lookup(alarm_id, by)
        if self.alarms.unshelve(alarm, self.clock()):
            await self._save(alarm)
        return alarm

    async def comment(self, alarm_id: int, by: str, text: str) -> Alarm:
        """Add an operator's note to an alarm (active or cleared)."""
        alarm = await self._lookup(alarm_id, by)
        if (problem := unstorable_text(text)) is not None:
            raise InvalidInput([FieldProblem(("body", "text"), problem, text)])
        self.alarms.comment(alarm, text, by, self.clock())
        await self._save(alarm)
        return alarm

    async def send_command(self, machine_id: str, command: Command) -> CommandResult:
        """Send a command to a machine; the answer says where it is (``state``), later states go on the stream.

        One event per command in the machine's log: the machine's own answer when it comes over the wire;
        otherwise the twin's, once the outcome is known (applied or refused in process, undelivered, timed out).
        """
        live = self.state.machines.get(machine_id)
        if live is None:
            raise NotFound(f"no machine {machine_id!r} in the factory layout")
        now = self.clock()
        message = CommandMessage(id=uuid.uuid4().hex, machine_id=machine_id, ts=now, **command.model_dump())
        outcome = await self.commands.dispatch(message)
        status = CommandStatus(
            command=message, state=outcome.state, outcome=outcome.outcome, answer=outcome.answer, updated_at=now
        )
        event_id: int | None = None
        if outcome.state is CommandState.DELIVERED:
            self.ledger.wait_for_answer(status)
        else:
            event_id = await self._command_event(status)
            if outcome.state is CommandState.APPLIED and message.speed_pct is not None:
                live.speed_pct = message.speed_pct  # in process: no answer event to learn it from
                self._refresh_health(live, force=True)
        self.hub.command(status)
        return CommandResult(
            command=message,
            delivered=outcome.delivered,
            state=status.state,
            outcome=status.outcome,
            answer=status.answer,
            event_id=event_id,
        )

    async def expire_commands(self) -> list[CommandStatus]:
        """Time out the delivered commands that were not answered in time; write and stream each outcome."""
        late = self.ledger.expire(self.clock())
        for status in late:
            self.hub.command(status)
            try:
                await self._command_event(status)
            except StoreUnavailable as exc:
                log.warning("the timed-out command %s is not in the event log: %s", status.command.id, exc)
        return late

    async def _command_event(self, status: CommandStatus) -> int | None:
        """Write the one event of a command whose outcome the twin knows (and send it to stream and bus)."""
        message = status.command
        event = Event(
            machine_id=message.machine_id,
            ts=status.updated_at,
            kind=EventKind.COMMAND,
            message=f"{describe(message)}: {status.outcome}"[:MAX_EVENT_MESSAGE_CHARS],
            data={
                "command": message.model_dump(mode="json"),
                "command_id": message.id,
                "state": status.state.value,
                "delivered": status.state is not CommandState.UNDELIVERED,
                "accepted": status.state is CommandState.APPLIED,
            },
        )
        saved = (await self.store.write_events([event]))[0]
        self.hub.event(saved)
        if self.bus.distributed:
            self._enqueue(BusEvent("event", self.bus.origin, saved))
        return saved.id

    def health_section(self) -> dict[str, int | str]:
        """Counters for GET /health; ``bus_refused.<reason>``: bus messages dropped by the bus's validation;
        ``bus_echoes``: this process's own bus messages the broker sent back (0 while MQTT v5 No Local is in
        force, ``bus_no_local`` 1)."""
        mqtt_bus = self.bus if isinstance(self.bus, MqttBus) else None
        refused = mqtt_bus.dropped if mqtt_bus is not None else {}
        return {
            "machines": len(self.state.machines),
            "active_alarms": sum(len(v) for v in self.alarms.active.values()),
            "stream_clients": len(self.hub.clients),
            "stream_dropped_clients": self.hub.dropped_clients,
            "bus": "mqtt" if self.bus.distributed else "in-process",
            "bus_dropped": self.bus_dropped,
            "bus_no_local": int(mqtt_bus is not None and mqtt_bus.link.no_local_in_force),
            "bus_echoes": mqtt_bus.echoes if mqtt_bus is not None else 0,
            **{f"bus_refused.{reason}": refused.get(reason, 0) for reason in DROP_REASONS},
        }


__all__ = ["SYSTEM", "CommandResult", "TwinService"]
