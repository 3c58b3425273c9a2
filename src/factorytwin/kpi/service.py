"""``KpiService``: KPIs of a machine, a line or the plant over a range, from the stored events and alarms.

What is read per request, in one ``Store.kpi_rows`` call (plain rows picked by SQL, no ``Event`` models): each
machine's status-carrying events and production reports of the range, its newest status-carrying events before
the range (its status at the start), and the raise times of its alarms in the range. No readings are read.
Ranges of two days or more grouped by day or not at all go through the day tallies kept per store
(``kpi.cache``), which read only the head of the range and the days not kept yet; the figures are the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from factorytwin.domain import Machine
from factorytwin.errors import FieldProblem, InvalidInput
from factorytwin.kpi.cache import DAY_MS, cache_of
from factorytwin.kpi.compute import (
    Tally,
    bucket_count,
    bucket_edges,
    count_columns,
    figures,
    tally_machine,
    tally_machine_both,
)
from factorytwin.kpi.models import MAX_BUCKETS, Grouping, KpiChild, KpiQuery, KpiReport, Scope
from factorytwin.kpi.timeline import facts_of_rows, from_ms, initial_of_facts, marks_of_facts, to_ms
from factorytwin.store.base import Store

LOOKBACK_EVENTS = 20
"""Newest status-carrying events read before a range to know each machine's status at its start."""
CACHED_FROM_MS = 2 * DAY_MS
"""Ranges this long or longer, by day or not grouped, go through the cache of day tallies (``kpi.cache``)..."""
CACHED_UP_TO_MS = MAX_BUCKETS * DAY_MS
"""...and no longer than this (the day grouping's own cap): an ungrouped range of decades would make a chain of
a cell per day (thousands of days, a second and more even with no events) where one scan of the range is cheap."""


def warm_up_query(days: int, end: datetime) -> KpiQuery:
    """The plant report by day over the ``days`` before ``end`` that the server runs after start-up to fill the
    day tallies (``api.lifespan.warm_kpis``): every later request of two days or more within it reads only its
    head and what is not kept yet."""
    return KpiQuery(start=end - timedelta(days=days), end=end, group=Grouping.DAY)


def _ms(ts: datetime) -> int:
    return to_ms(ts)


def _ideal_cycle(machine: Machine) -> float | None:
    value = machine.metadata.get("ideal_cycle_s")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class KpiService:
    """KPIs over the store's events for the machines of a layout (``lines``: line id -> display name)."""

    def __init__(
        self,
        store: Store,
        machines: Sequence[Machine],
        lines: Mapping[str, str] | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.store = store
        self.time_scale = time_scale  # machine seconds per second of the events' clock (kpi.compute.figures)
        self.machines = {m.id: m for m in machines}
        self.lines: dict[str, str] = dict(lines or {})
        for m in machines:
            self.lines.setdefault(m.line, m.line)

    def scope_machines(self, scope: Scope, scope_id: str | None) -> list[Machine]:
        """The machines of a scope; ``InvalidInput`` naming ``id`` for an unknown line or machine."""
        if scope is Scope.PLANT:
            return list(self.machines.values())
        if scope_id is None:
            raise InvalidInput([FieldProblem(("query", "id"), f"scope={scope.value} needs an id", None)])
        if scope is Scope.MACHINE:
            if scope_id not in self.machines:
                raise InvalidInput([FieldProblem(("query", "id"), f"no machine {scope_id!r} in the layout", scope_id)])
            return [self.machines[scope_id]]
        found = [m for m in self.machines.values() if m.line == scope_id]
        if not found:
            known = ", ".join(sorted(self.lines))
            raise InvalidInput([FieldProblem(("query", "id"), f"no line {scope_id!r} (known: {known})", scope_id)])
        return found

    @staticmethod
    def check_buckets(query: KpiQuery) -> None:
        """``InvalidInput`` naming ``group`` when the grouping would make more than ``MAX_BUCKETS`` buckets."""
        if query.group is not Grouping.NONE and bucket_count(query.start, query.end, query.group) > MAX_BUCKETS:
            msg = f"group={query.group.value} over this range makes more than {MAX_BUCKETS} buckets; use a coarser one"
            raise InvalidInput([FieldProblem(("query", "group"), msg, query.group.value)])

    async def report(self, query: KpiQuery) -> KpiReport:
        """The KPIs of ``query``'s scope: total, per bucket, and per child (lines of the plant, machines of a line)."""
        machines = self.scope_machines(query.scope, query.id)
        self.check_buckets(query)
        start, end = query.start.astimezone(UTC), query.end.astimezone(UTC)
        edges = bucket_edges(start, end, query.group)
        edges_ms = [_ms(e) for e in edges]
        cacheable = query.group in (Grouping.DAY, Grouping.NONE)
        if cacheable and CACHED_FROM_MS <= edges_ms[-1] - edges_ms[0] <= CACHED_UP_TO_MS:
            totals, buckets = await self._cached_tallies(machines, edges_ms, query.group)
        else:
            totals, buckets = await self._tallies(machines, edges_ms)
        total = Tally()
        per_bucket = [Tally() for _ in range(len(edges) - 1)]
        children: dict[str, Tally] = defaultdict(Tally)
        for m in machines:
            total.add(totals[m.id])
            children[m.id if query.scope is Scope.LINE else m.line].add(totals[m.id])
            for acc, part in zip(per_bucket, buckets[m.id], strict=True):
                acc.add(part)
        kids: list[KpiChild] = []
        if query.scope is not Scope.MACHINE:
            child_scope = Scope.MACHINE if query.scope is Scope.LINE else Scope.LINE
            for key in sorted(children):
                name = self.machines[key].name if child_scope is Scope.MACHINE else self.lines.get(key, key)
                child = figures(children[key], start, end, self.time_scale)
                kids.append(KpiChild(scope=child_scope, id=key, name=name, total=child))
        return KpiReport(
            scope=query.scope,
            id=query.id if query.scope is not Scope.PLANT else None,
            start=start,
            end=end,
            group=query.group,
            machines=[m.id for m in machines],
            total=figures(total, start, end, self.time_scale),
            buckets=[figures(t, edges[i], edges[i + 1], self.time_scale) for i, t in enumerate(per_bucket)]
            if query.group is not Grouping.NONE
            else [],
            children=kids,
        )

    async def _cached_tallies(
        self, machines: list[Machine], edges_ms: list[int], group: Grouping
    ) -> tuple[dict[str, Tally], dict[str, list[Tally]]]:
        """``_tallies`` through the store's cache of day tallies (``kpi.cache``): the same figures."""
        ideal = {m.id: _ideal_cycle(m) for m in machines}
        cache = cache_of(self.store, LOOKBACK_EVENTS)
        both = await cache.tallies(machines, edges_ms[0], edges_ms[-1], ideal)
        totals = {k: total for k, (total, _) in both.items()}
        if group is Grouping.NONE:
            return totals, {k: [total] for k, total in totals.items()}
        return totals, {k: days for k, (_, days) in both.items()}

    async def _tallies(
        self, machines: list[Machine], edges_ms: list[int]
    ) -> tuple[dict[str, Tally], dict[str, list[Tally]]]:
        """Per machine: its tally over the whole range and its tallies per bucket, from one compact store read."""
        start, end = edges_ms[0], edges_ms[-1]
        rows = await self.store.kpi_rows([m.id for m in machines], from_ms(start), from_ms(end), LOOKBACK_EVENTS)
        totals: dict[str, Tally] = {}
        buckets: dict[str, list[Tally]] = {}
        for m in machines:
            own = rows[m.id]
            initial = initial_of_facts(facts_of_rows(own.before))
            marks = marks_of_facts(facts_of_rows(own.status), initial.status if initial else None)
            reports = count_columns(own.counts)
            ideal = _ideal_cycle(m)
            if len(edges_ms) > 2:
                totals[m.id], buckets[m.id] = tally_machine_both(edges_ms, marks, initial, reports, own.alarms, ideal)
            else:
                [totals[m.id]] = tally_machine(edges_ms, marks, initial, reports, own.alarms, ideal)
                buckets[m.id] = [totals[m.id]]
        return totals, buckets
