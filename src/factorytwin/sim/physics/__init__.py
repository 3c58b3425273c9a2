"""Physics per machine kind, each stepped for all machines of the kind at once over a block of samples."""

from __future__ import annotations

from factorytwin.domain import MachineKind
from factorytwin.sim.physics.base import Block, KindModel, KindResult
from factorytwin.sim.physics.fluid import CompressorModel, PressModel, PumpModel
from factorytwin.sim.physics.handling import ConveyorModel, RobotModel
from factorytwin.sim.physics.machining import LATHE_MODEL, MILL_MODEL

MODELS: dict[MachineKind, KindModel] = {
    MachineKind.CNC_MILL: MILL_MODEL,
    MachineKind.LATHE: LATHE_MODEL,
    MachineKind.HYDRAULIC_PRESS: PressModel(),
    MachineKind.PUMP: PumpModel(),
    MachineKind.AIR_COMPRESSOR: CompressorModel(),
    MachineKind.CONVEYOR: ConveyorModel(),
    MachineKind.ROBOT_ARM: RobotModel(),
}

__all__ = ["MODELS", "Block", "KindModel", "KindResult"]
