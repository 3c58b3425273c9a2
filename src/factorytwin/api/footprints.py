"""How big each machine kind is drawn: one table for the glTF export and the dashboard's 3D floor.

The dashboard receives it with the layout (``GET /layout``: ``footprints``), so the browser never keeps its own
copy. Sizes are metres; colours are linear RGB.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from factorytwin.domain import MachineKind


class Footprint(BaseModel):
    """The stand-in solid of a machine kind and where the dashboard draws around it."""

    shape: Literal["box", "cylinder"] = Field(description="box (width x depth) or vertical cylinder (diameter)")
    width: float = Field(gt=0, description="metres along the machine's x axis (a cylinder's diameter)")
    depth: float = Field(gt=0, description="metres along the machine's z axis (a cylinder's diameter)")
    height: float = Field(gt=0, description="metres: the body of the glTF stand-in")
    top: float = Field(gt=0, description="metres: the highest moving part, where labels and alarm beacons sit")
    ring_radius: float = Field(ge=0, description="metres: the floor ring and hit area (0: none, e.g. a conveyor)")
    color: tuple[float, float, float] = Field(description="linear RGB of the glTF material")
    model: str | None = Field(
        default=None, description="the dashboard's built-in model a profile's machines are drawn with, if any"
    )
    asset: str | None = Field(
        default=None,
        description="an uploaded glTF asset the dashboard draws (GET /assets/{id}), standing on the floor and centred; "
        "the solid above is its bounding box",
    )


def _f(
    shape: Literal["box", "cylinder"],
    size: tuple[float, float, float],
    top: float,
    ring_radius: float,
    color: tuple[float, float, float],
) -> Footprint:
    width, height, depth = size
    return Footprint(
        shape=shape, width=width, depth=depth, height=height, top=top, ring_radius=ring_radius, color=color
    )


FOOTPRINTS: dict[MachineKind, Footprint] = {
    MachineKind.CNC_MILL: _f("box", (2.6, 2.6, 2.0), 2.7, 1.8, (0.58, 0.61, 0.65)),
    MachineKind.LATHE: _f("box", (3.6, 1.8, 1.0), 2.7, 2.1, (0.05, 0.11, 0.07)),
    MachineKind.HYDRAULIC_PRESS: _f("box", (2.7, 4.5, 1.9), 4.6, 1.8, (0.03, 0.07, 0.15)),
    MachineKind.PUMP: _f("cylinder", (0.9, 1.0, 0.9), 1.6, 1.2, (0.34, 0.03, 0.03)),
    MachineKind.AIR_COMPRESSOR: _f("box", (2.2, 1.9, 2.0), 2.7, 1.8, (0.58, 0.61, 0.65)),
    MachineKind.CONVEYOR: _f("box", (10.0, 0.9, 1.0), 1.4, 0.0, (0.02, 0.02, 0.03)),
    MachineKind.ROBOT_ARM: _f("cylinder", (1.0, 2.6, 1.0), 3.4, 1.3, (0.63, 0.19, 0.01)),
}
"""Footprint of every machine kind (a conveyor's width is replaced by its ``length_m`` metadata)."""

DEFAULT_CONVEYOR_LENGTH_M = FOOTPRINTS[MachineKind.CONVEYOR].width
