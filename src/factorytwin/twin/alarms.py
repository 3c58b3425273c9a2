"""Alarm lifecycle, after ThingsBoard's model: one active alarm per (machine, type), raised once, escalated,
acknowledged and cleared, each step recorded with who and when.

States (``AlarmState``): ``active_unack`` -> ``active_ack`` (acknowledged) -> ``cleared_ack``; or ``active_unack``
-> ``cleared_unack`` (condition ended, nobody acknowledged) -> ``cleared_ack``. While the condition lasts the
alarm is updated, never duplicated; its severity may escalate but does not drop back (the operator should see the
worst it got). The engine is pure and in memory; the twin service persists what it returns.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime

from factorytwin.domain import Alarm, AlarmSeverity, AlarmState
from factorytwin.twin.rules import SEVERITY_RANK, Finding, Verdict

SYSTEM = "system"
RECENT_CLEARED_KEPT = 1000
REFRESH_S = 30.0
ACTIVE_STATES = frozenset({AlarmState.ACTIVE_UNACK, AlarmState.ACTIVE_ACK})


def is_active(alarm: Alarm) -> bool:
    """True while the alarm's condition is (taken to be) present."""
    return alarm.state in ACTIVE_STATES


class AlarmEngine:
    """Active alarms by machine and type, and the transitions of their lifecycle."""

    def __init__(self) -> None:
        self.active: dict[str, dict[str, Alarm]] = {}
        self._last_true: dict[tuple[str, str], datetime] = {}
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
        wanted = None if machine_ids is None else set(machine_ids)
        out = [
            alarm
            for machine_id, by_type in self.active.items()
            if wanted is None or machine_id in wanted
            for alarm in by_type.values()
        ]
        return sorted(out, key=lambda a: a.raised_at, reverse=True)

    def alarmed_sensors(self, machine_id: str) -> set[str | None]:
        """The sensors of a machine's active alarms."""
        return {alarm.sensor for alarm in self.active.get(machine_id, {}).values()}

    def severities(self, machine_id: str) -> list[AlarmSeverity]:
        """Severities of a machine's active alarms (for its health score)."""
        return [alarm.severity for alarm in self.active.get(machine_id, {}).values()]

    def find(self, alarm_id: int) -> Alarm | None:
        """An alarm known in memory (active, or cleared recently) by id."""
        for by_type in self.active.values():
            for alarm in by_type.values():
                if alarm.id == alarm_id:
                    return alarm
        return self._recent.get(alarm_id)

    def apply(self, machine_id: str, findings: Iterable[Finding], ts: datetime) -> list[Alarm]:
        """Fold a batch's verdicts into the machine's alarms; return the alarms raised, escalated or cleared."""
        by_type = self.active.setdefault(machine_id, {})
        changed: list[Alarm] = []
        for finding in findings:
            key = (machine_id, finding.type)
            current = by_type.get(finding.type)
            if finding.verdict is Verdict.RAISE:
                self._last_true[key] = ts
                if current is None:
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
            elif finding.verdict is Verdict.CLEAR and current is not None:
                last_true = self._last_true.get(key, current.updated_at)
                if (ts - last_true).total_seconds() >= finding.clear_hold_s:
                    self._clear(current, SYSTEM, ts)
                    del by_type[finding.type]
                    self._last_true.pop(key, None)
                    changed.append(current)
        return changed

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
        self._clear(alarm, by, now)
        return True
