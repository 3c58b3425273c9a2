"""factorytwin's factory simulator: a seeded, vectorised engine, its physics, and the drivers that run it.

Public face: ``Engine`` (pure ``step(dt, n)``), ``apply_command``, the publishers, ``run_realtime`` (the async entry
the ``demo`` command starts in its own event loop) and ``generate_dataset`` (fast mode to parquet).
"""

from __future__ import annotations

from factorytwin.sim.commands import CommandOutcome, apply_command, parse_command, parse_command_message
from factorytwin.sim.engine import Engine
from factorytwin.sim.state import STATUSES, Frame, SimEvent

__all__ = [
    "STATUSES",
    "CommandOutcome",
    "Engine",
    "Frame",
    "SimEvent",
    "apply_command",
    "parse_command",
    "parse_command_message",
]
