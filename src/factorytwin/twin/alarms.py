"""Alarm lifecycle, after ThingsBoard's model: one active alarm per (machine, type), raised once, escalated,
acknowledged and cleared, each step recorded with who and when.

States (``AlarmState``): ``active_unack`` -> ``active_ack`` (acknowledged) -> ``cleared_ack``; or ``active_unack``
-> ``cleared_unack`` (condition ended, nobody acknowledged) -> ``cleared_ack``. While the condition lasts the
alarm is updated, never duplicated; its severity may escalate but does not drop back (the operator should see the
worst it got). The engine is pure and in memory; the twin service persists what it returns.

On-delay: a condition is *pending* until it has held for its finding's ``on_delay_s`` (machine seconds: reading
time x ``time_scale``); only then is the alarm raised. A batch in which the condition is gone forgets it.

Shelving (after ISA-18.2): an operator sets an alarm aside until an expiry, with a reason. The shelf belongs to the
(machine, type) slot, so the alarm raised anew while it lasts is born shelved; ``expire_shelves`` takes expired
shelves off (the alarm is shown again if its condition is still there). Comments are notes on one alarm.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from factorytwin.domain import MAX_ALARM_COMMENTS, Alarm, AlarmComment, AlarmSeverity, AlarmState
from factorytwin.twin.rules import SEVERITY_RANK, Finding, Verdict

SYSTEM = "system"
RECENT_CLEARED_KEPT = 1000
REFRESH_S = 30.0
ACTIVE_STATES = frozenset({AlarmState.ACTIVE_UNACK, AlarmState.ACTIVE_ACK})


MAX_SHELVE_S = 7 * 86400.0
"""Longest shelf: a week (an alarm set aside for good is a rule to retune, not to shelve)."""


def is_active(alarm: Alarm) -> bool:
    """True while the alarm's condition is (taken to be) present."""
    return alarm.state in ACTIVE_STATES


def is_shelved(alarm: Alarm, now: datetime) -> bool:
    """True while the alarm is set aside."""
    return alarm.shelved_until is not None and alarm.shelved_until > now


@dataclass(frozen=True, slots=True)
class Shelf:
    """An operator's shelving of one (machine, alarm type)."""

    until: datetime
    by: str
    reason: str


class AlarmEngine:
    """Active alarms by machine and type, and the transitions of their lifecycle."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.active: dict[str, dict[str, Alarm]] = {}
        self.time_scale = time_scale  # machine seconds per second of reading time
        self._last_true: dict[tuple[str, str], datetime] = {}
        # machine -> type -> (since, sensor) of conditions on their on-delay
        self._pending: dict[str, dict[str, tuple[datetime, str | None]]] = {}
        self._shelves: dict[tuple[str, str], Shelf] = {}
        self._recent: OrderedDict[int, Alarm] = OrderedDict()

    def load(self, alarms: Iterable[Alarm]) -> None:
        """Take over alarms persisted earlier (at start-up: the store's active alarms)."""
        for alarm in alarms:
            self.merge(alarm)

    def merge(self, alarm: Alarm) -> None:
        """Adopt an alarm's newest version (from the store or from another instance over the bus)."""
        by_type = self.active.setdefault(alarm.machine_id, {})
        if is_active(alarm):
            by_type[alarm.type] = alarm
            self._last_true.setdefault((alarm.machine_id, alarm.type), alarm.updated_at)
            if alarm.shelved_until is not None:
                shelf = Shelf(alarm.shelved_until, alarm.shelved_by or "", alarm.shelve_reason or "")
                self._shelves[(alarm.machine_id, alarm.type)] = shelf
            else:
                self._shelves.pop((alarm.machine_id, alarm.type), None)
        else:
            current = by_type.get(alarm.type)
            if current is not None and (current is alarm or (current.id is not None and current.id == alarm.id)):
                del by_type[alarm.type]
            self.remember(alarm)

    def remember(self, alarm: Alarm) -> None:
        """Keep a cleared alarm (with its id) at hand for a later acknowledgement."""
        if alarm.id is not None:
            self._recent[alarm.id] = alarm
            self._recent.move_to_end(alarm.id)
            while len(self._recent) > RECENT_CLEARED_KEPT:
                self._recent.popitem(last=False)

    def alarms(self, machine_ids: Iterable[str] | None = None) -> list[Alarm]:
        """Active alarms of the given machines (all when ``None``), newest first."""
        if machine_ids is None:
            out = [alarm for by_type in self.active.values() for alarm in by_type.values()]
        else:  # the machines asked for, not a pass over every machine's alarms
            active = self.active
            out = [alarm for machine_id in set(machine_ids) for alarm in active.get(machine_id, {}).values()]
        return sorted(out, key=lambda a: a.raised_at, reverse=True)

    def alarmed_sensors(self, machine_id: str) -> set[str | None]:
        """The sensors of a machine's active alarms and of its pending conditions (on their on-delay)."""
        out = {alarm.sensor for alarm in self.active.get(machine_id, {}).values()}
        out.update(sensor for _, sensor in self._pending.get(machine_id, {}).values())
        return out

    def severities(self, machine_id: str, now: datetime | None = None) -> list[AlarmSeverity]:
        """Severities of a machine's active alarms that are not shelved at ``now`` (for its health score)."""
        return [
            alarm.severity
            for alarm in self.active.get(machine_id, {}).values()
            if now is None or not is_shelved(alarm, now)
        ]

    def pending(self, machine_id: str) -> list[str]:
        """Alarm types of a machine whose condition holds but has not yet lasted its on-delay."""
        return sorted(self._pending.get(machine_id, {}))

    def find(self, alarm_id: int) -> Alarm | None:
        """An alarm known in memory (active, or cleared recently) by id."""
        for by_type in self.active.values():
            for alarm in by_type.values():
                if alarm.id == alarm_id:
                    return alarm
        return self._recent.get(alarm_id)

    def _held_s(self, since: datetime, ts: datetime) -> float:
        return (ts - since).total_seconds() * self.time_scale

    def apply(self, machine_id: str, findings: Iterable[Finding], ts: datetime) -> list[Alarm]:
        """Fold a batch's verdicts into the machine's alarms; return the alarms raised, escalated or cleared."""
        by_type = self.active.setdefault(machine_id, {})
        pending = self._pending.setdefault(machine_id, {})
        was_pending = set(pending)
        changed: list[Alarm] = []
        for finding in findings:
            key = (machine_id, finding.type)
            current = by_type.get(finding.type)
            if finding.verdict is Verdict.RAISE:
                self._last_true[key] = ts
                if current is None:
                    since = pending.setdefault(finding.type, (ts, finding.sensor))[0]
                    was_pending.discard(finding.type)
                    if self._held_s(since, ts) < finding.on_delay_s:
                        continue  # pending: not yet long enough to be sure
                    del pending[finding.type]
                    alarm = Alarm(
                        machine_id=machine_id,
                        type=finding.type,
                        severity=finding.severity,
                        state=AlarmState.ACTIVE_UNACK,
                        message=finding.message,
                        sensor=finding.sensor,
                        value=finding.value,
                        raised_at=ts,
                        updated_at=ts,
                    )
                    self._shelve_if_shelved(alarm, ts)
                    by_type[finding.type] = alarm
                    changed.append(alarm)
                elif SEVERITY_RANK[finding.severity] > SEVERITY_RANK[current.severity]:
                    current.severity, current.message = finding.severity, finding.message
                    current.value, current.updated_at = finding.value, ts
                    changed.append(current)
                else:
                    # The same condition going on: keep the newest value; tell (store, stream) at most every
                    # REFRESH_S, so a long-lasting alarm shows it is still there without a write per reading.
                    current.value = finding.value if finding.value is not None else current.value
                    if (ts - current.updated_at).total_seconds() >= REFRESH_S:
                        current.updated_at = ts
                        changed.append(current)
            elif finding.verdict is Verdict.CLEAR:
                if current is None:
                    continue
                last_true = self._last_true.get(key, current.updated_at)
                if self._held_s(last_true, ts) >= finding.clear_hold_s:
                    self._clear(current, SYSTEM, ts)
                    del by_type[finding.type]
                    self._last_true.pop(key, None)
                    changed.append(current)
        for rule_type in was_pending:  # the condition did not hold in this batch: its on-delay starts over
            del pending[rule_type]
        return changed

    # -- shelving and comments -----------------------------------------------------------------------------------
    def _shelve_if_shelved(self, alarm: Alarm, now: datetime) -> None:
        shelf = self._shelves.get((alarm.machine_id, alarm.type))
        if shelf is not None and shelf.until > now:
            alarm.shelved_until, alarm.shelved_by, alarm.shelve_reason = shelf.until, shelf.by, shelf.reason

    def shelve(self, alarm: Alarm, until: datetime, reason: str, by: str, now: datetime) -> None:
        """Set an active alarm (and its type on its machine) aside until ``until``; ``ValueError`` if it is
        cleared, ``until`` is not in the future or is more than ``MAX_SHELVE_S`` ahead."""
        if not is_active(alarm):
            raise ValueError("only an active alarm can be shelved")
        if until <= now:
            raise ValueError("the shelf must end in the future")
        if until - now > timedelta(seconds=MAX_SHELVE_S):
            raise ValueError(f"an alarm can be shelved for at most {MAX_SHELVE_S / 86400:g} days")
        self._shelves[(alarm.machine_id, alarm.type)] = Shelf(until, by, reason)
        alarm.shelved_until, alarm.shelved_by, alarm.shelve_reason = until, by, reason
        alarm.updated_at = now

    def unshelve(self, alarm: Alarm, now: datetime) -> bool:
        """Take an alarm off its shelf before the expiry; False when it was not shelved."""
        self._shelves.pop((alarm.machine_id, alarm.type), None)
        if alarm.shelved_until is None:
            return False
        alarm.shelved_until = alarm.shelved_by = alarm.shelve_reason = None
        alarm.updated_at = now
        return True

    def expire_shelves(self, now: datetime) -> list[Alarm]:
        """Take expired shelves off; return the active alarms that are shown again."""
        for key in [k for k, shelf in self._shelves.items() if shelf.until <= now]:
            del self._shelves[key]
        out: list[Alarm] = []
        for by_type in self.active.values():
            for alarm in by_type.values():
                if alarm.shelved_until is not None and alarm.shelved_until <= now:
                    self.unshelve(alarm, now)
                    out.append(alarm)
        return out

    def comment(self, alarm: Alarm, text: str, by: str, now: datetime) -> AlarmComment:
        """Add an operator's note to an alarm (active or cleared); the oldest give way past MAX_ALARM_COMMENTS."""
        note = AlarmComment(at=now, by=by, text=text)
        alarm.comments = [*alarm.comments, note][-MAX_ALARM_COMMENTS:]
        alarm.updated_at = now
        return note

    def _clear(self, alarm: Alarm, by: str, ts: datetime) -> None:
        alarm.state = AlarmState.CLEARED_ACK if alarm.state is AlarmState.ACTIVE_ACK else AlarmState.CLEARED_UNACK
        alarm.cleared_at, alarm.cleared_by, alarm.updated_at = ts, by, ts
        self.remember(alarm)

    def acknowledge(self, alarm: Alarm, by: str, now: datetime) -> bool:
        """Acknowledge an alarm (active or cleared); False when it already was."""
        if alarm.state is AlarmState.ACTIVE_UNACK:
            alarm.state = AlarmState.ACTIVE_ACK
        elif alarm.state is AlarmState.CLEARED_UNACK:
            alarm.state = AlarmState.CLEARED_ACK
        else:
            return False
        alarm.acked_at, alarm.acked_by, alarm.updated_at = now, by, now
        return True

    def clear(self, alarm: Alarm, by: str, now: datetime) -> bool:
        """Clear an active alarm by hand; False when it was cleared already."""
        if not is_active(alarm):
            return False
        by_type = self.active.get(alarm.machine_id, {})
        if by_type.get(alarm.type) is alarm:
            del by_type[alarm.type]
        self._last_true.pop((alarm.machine_id, alarm.type), None)
        self._pending.get(alarm.machine_id, {}).pop(alarm.type, None)
        self._clear(alarm, by, now)
        return True
