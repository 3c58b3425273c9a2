"""The KPI service as it was before ``Store.kpi_rows``: every event of the range read as a pydantic ``Event`` (page
by page), the status before the range from ``Store.events``, alarms from ``Store.alarms``, reports summed one by
one. The fast path must give the same report, to the last bit; the tests compare the two."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from factorytwin.domain import Event, Machine
from factorytwin.kpi import Grouping, KpiService
from factorytwin.kpi.compute import Tally, tally_machine
from factorytwin.kpi.service import LOOKBACK_EVENTS, _ideal_cycle
from factorytwin.kpi.timeline import STATUS_KINDS, Mark, counts, from_ms, initial_mark, status_marks, to_ms
from factorytwin.store.base import MAX_LIST_LIMIT, AlarmQuery, EventQuery, all_events

_MS = timedelta(milliseconds=1)


class ReferenceKpiService(KpiService):
    """``KpiService`` reading models, as before the compact read and the cache."""

    async def _cached_tallies(
        self, machines: list[Machine], edges_ms: list[int], group: Grouping
    ) -> tuple[dict[str, Tally], dict[str, list[Tally]]]:
        return await self._tallies(machines, edges_ms)

    async def _tallies(
        self, machines: list[Machine], edges_ms: list[int]
    ) -> tuple[dict[str, Tally], dict[str, list[Tally]]]:
        start, end = edges_ms[0], edges_ms[-1]
        ids = {m.id for m in machines}
        single = machines[0].id if len(machines) == 1 else None
        events = await all_events(
            self.store,
            EventQuery(machine_id=single, start=from_ms(start), end=from_ms(end) + _MS, limit=MAX_LIST_LIMIT),
        )
        by_machine: dict[str, list[Event]] = defaultdict(list)
        for event in reversed(events):  # oldest first
            if event.machine_id in ids:
                by_machine[event.machine_id].append(event)
        alarms = await self._alarm_times(single, ids, start, end)
        totals: dict[str, Tally] = {}
        buckets: dict[str, list[Tally]] = {}
        for m in machines:
            initial = await self._initial(m.id, start)
            own = by_machine.get(m.id, [])
            in_range = [e for e in own if to_ms(e.ts) < end]
            marks = status_marks(in_range, initial.status if initial else None)
            reports = [c for c in counts(own) if start < c.ts_ms <= end]
            ideal = _ideal_cycle(m)
            raised = alarms.get(m.id, [])
            [totals[m.id]] = tally_machine([start, end], marks, initial, reports, raised, ideal)
            buckets[m.id] = tally_machine(edges_ms, marks, initial, reports, raised, ideal) if len(edges_ms) > 2 else []
        if len(edges_ms) == 2:
            buckets = {k: [v] for k, v in totals.items()}
        return totals, buckets

    async def _initial(self, machine_id: str, start_ms: int) -> Mark | None:
        query = EventQuery(
            machine_id=machine_id, kinds=sorted(STATUS_KINDS), end=from_ms(start_ms), limit=LOOKBACK_EVENTS
        )
        return initial_mark(await self.store.events(query))

    async def _alarm_times(self, single: str | None, ids: set[str], start: int, end: int) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        query = AlarmQuery(machine_id=single, before=from_ms(end), limit=MAX_LIST_LIMIT)
        while True:
            page = await self.store.alarms(query)
            for alarm in page:
                ts = to_ms(alarm.raised_at)
                if ts >= start and alarm.machine_id in ids:
                    out[alarm.machine_id].append(ts)
            if len(page) < query.limit or page[-1].id is None or to_ms(page[-1].raised_at) < start:
                return out
            query = query.model_copy(update={"before": page[-1].raised_at, "before_id": page[-1].id})
