"""Work orders: maintenance jobs on a machine (open -> assigned -> in progress -> done/cancelled), see docs/KPIS.md."""

from factorytwin.workorders.models import (
    WorkOrder,
    WorkOrderCreate,
    WorkOrderNote,
    WorkOrderState,
    WorkOrderTransition,
)

__all__ = ["WorkOrder", "WorkOrderCreate", "WorkOrderNote", "WorkOrderState", "WorkOrderTransition"]
