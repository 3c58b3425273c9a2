"""Plant KPIs from the stored events: availability, performance, quality, OEE, MTBF, MTTR, downtime by cause.

Public face: ``KpiService`` (reads the store), the request/answer models, and ``MAX_BUCKETS``. The arithmetic is in
``kpi.compute`` (pure), the reading of events in ``kpi.timeline``; definitions in docs/KPIS.md.
"""

from __future__ import annotations

from factorytwin.kpi.models import (
    MAX_BUCKETS,
    DowntimeCause,
    Grouping,
    KpiChild,
    KpiFigures,
    KpiQuery,
    KpiReport,
    Scope,
)
from factorytwin.kpi.service import KpiService

__all__ = [
    "MAX_BUCKETS",
    "DowntimeCause",
    "Grouping",
    "KpiChild",
    "KpiFigures",
    "KpiQuery",
    "KpiReport",
    "KpiService",
    "Scope",
]
