"""The plant as provisioned live: its machines (created, changed, deleted over the API), the floor they stand on,
and the layout file as an import/export format of the same data (``PlantService``, ``layout_document``)."""

from __future__ import annotations

from factorytwin.plant.service import MachineListener, PlantService

__all__ = ["MachineListener", "PlantService"]
