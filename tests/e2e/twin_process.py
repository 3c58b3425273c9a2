"""The whole twin in one process for the browser tests: the real API on a free port and the real simulator.

The simulator publishes over HTTP to the API, exactly as from another host; commands reach it in process (the
dispatcher's sink), so the tests need no MQTT broker shared with other test runs. Prints ``READY <url>`` once
the API answers, then runs until terminated.

    python tests/e2e/twin_process.py --db /tmp/x.db --models /tmp/models [--layout layout.json] [--speed 60]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from factorytwin.api import create_app
from factorytwin.config import Settings
from factorytwin.domain import CommandMessage
from factorytwin.layout import load_layout
from factorytwin.sim.commands import apply_command
from factorytwin.sim.engine import Engine
from factorytwin.sim.realtime import run_realtime


async def main(db: Path, layout_path: Path | None, models: Path, speed: float, seed: int) -> None:
    """Serve and simulate until SIGTERM/SIGINT."""
    settings = Settings(
        database_url=f"sqlite:///{db}", mqtt_url=None, layout_path=layout_path, model_dir=models, port=8000
    )
    layout = load_layout(layout_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            raise SystemExit("the API did not start")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    engine = Engine(layout, seed=seed, start=datetime.now(UTC), demo_faults=True)

    async def to_simulator(message: CommandMessage) -> None:
        apply_command(engine, message.machine_id, message, message.id)

    app.state.services.twin.commands.add_sink(to_simulator)
    print(f"READY {url}", flush=True)
    try:
        await run_realtime(layout, target=url, speed=speed, engine=engine, stop=stop)
    finally:
        server.should_exit = True
        await serving


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--layout", type=Path, default=None, help="default: the built-in factory")
    ap.add_argument("--models", type=Path, required=True)
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    asyncio.run(main(a.db, a.layout, a.models, a.speed, a.seed))
