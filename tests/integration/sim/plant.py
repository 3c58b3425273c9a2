"""A small simulated factory served in-process by ``run_realtime``, for the OPC UA and Modbus server tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from factorytwin.domain import FactoryLayout, Machine, MachineKind, ProductionLine
from factorytwin.sim.engine import Engine
from factorytwin.sim.realtime import PlantServer, run_realtime
from tests.waiting import DEADLINE_S, until


def small_layout() -> FactoryLayout:
    """Three machines of three kinds: a mill, a pump and a conveyor."""
    machines = [
        Machine(id="mill-01", name="Mill 1", profile=MachineKind.CNC_MILL, line="l1", x=0, y=0),
        Machine(id="pump-01", name="Coolant pump", profile=MachineKind.PUMP, line="l1", x=5, y=0),
        Machine(id="conv-01", name="Conveyor 1", profile=MachineKind.CONVEYOR, line="l1", x=10, y=0),
    ]
    return FactoryLayout(name="small", lines=[ProductionLine(id="l1", name="Line 1")], machines=machines)


def small_engine(seed: int = 5) -> Engine:
    """An engine of ``small_layout`` with no preventive maintenance (a status change is then ours)."""
    engine = Engine(small_layout(), seed=seed)
    engine.next_pm[:] = float("inf")
    return engine


@asynccontextmanager
async def serving(engine: Engine, server: PlantServer, ticks: int) -> AsyncIterator[asyncio.Task[object]]:
    """Run the engine in real time (60x, 10 ticks a second) with ``server``; inside, ``ticks`` were served."""
    stop = asyncio.Event()
    task: asyncio.Task[object] = asyncio.create_task(
        run_realtime(engine.layout, engine=engine, speed=600.0, tick_s=0.1, stop=stop, servers=[server])
    )
    try:
        await until(lambda: task.done() or getattr(server, "ticks", 0) >= ticks, f"{ticks} ticks served")
        if task.done():
            task.result()  # raises what ended the run (a port taken...)
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), DEADLINE_S)
