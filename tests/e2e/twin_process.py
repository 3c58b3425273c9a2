"""The whole twin in one process for the browser tests: the real API on a free port and the real simulator.

The simulator publishes over HTTP to the API, exactly as from another host; commands reach it in process (the
dispatcher's sink), so the tests need no MQTT broker shared with other test runs. Prints ``READY <url>`` once
the API answers, then runs until terminated.

    python tests/e2e/twin_process.py --db /tmp/x.db --models /tmp/models [--layout layout.json] [--speed 60]
        [--port N] [--external MACHINE_ID ...]

``--external`` machines are in the twin's layout but not in the simulator: they report by themselves (a test
posts their telemetry over HTTP, as a device would) and nothing in the process receives their commands.

Fault injection, one line on stdin: ``fail-on-command <machine_id> <mode>`` makes that simulated machine fail
(``Engine.inject_failure``) just before its next command reaches it, so the command meets a failed machine
whose failure the twin has not heard of yet; the process answers ``ARMED <machine_id>`` on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from pathlib import Path

from factorytwin.config import Settings
from factorytwin.demo import run_demo, sink_for_engine
from factorytwin.domain import CommandMessage, FactoryLayout, FailureMode
from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.twin.commands import CommandSink


class FaultInjector:
    """Failures armed from stdin, each injected into the simulator right before the machine's next command."""

    def __init__(self) -> None:
        self.armed: dict[str, FailureMode] = {}
        self.lock = threading.Lock()

    def read(self) -> None:
        """Arm failures from stdin lines until it closes (runs in a daemon thread)."""
        for line in sys.stdin:
            words = line.split()
            if len(words) == 3 and words[0] == "fail-on-command":
                with self.lock:
                    self.armed[words[1]] = FailureMode(words[2])
                print(f"ARMED {words[1]}", flush=True)

    def sink_for(self, engine: Engine) -> CommandSink:
        """The demo's sink, failing an armed machine first."""
        obey = sink_for_engine(engine)

        async def sink(message: CommandMessage) -> str | None:
            with self.lock:
                mode = self.armed.pop(message.machine_id, None)
            if mode is not None:
                engine.inject_failure(message.machine_id, mode)
            return await obey(message)

        return sink


def main(
    db: Path,
    layout_path: Path | None,
    models: Path,
    speed: float,
    seed: int,
    port: int = 0,
    external: frozenset[str] = frozenset(),
) -> None:
    """Serve and simulate (the demo's own loop, without its first-start training) until SIGTERM/SIGINT.

    ``port`` 0 takes a free port; a given one lets a test restart the twin where the page expects it.
    """
    settings = Settings(
        database_url=f"sqlite:///{db}", mqtt_url=None, layout_path=layout_path, model_dir=models, port=port
    )
    layout = load_layout(layout_path)
    unknown = external - {m.id for m in layout.machines}
    if unknown:
        raise SystemExit(f"--external: no machine {', '.join(sorted(unknown))} in the layout")
    simulated = FactoryLayout.model_validate(
        {**layout.model_dump(), "machines": [m.model_dump() for m in layout.machines if m.id not in external]}
    )
    faults = FaultInjector()
    threading.Thread(target=faults.read, name="fault-injector", daemon=True).start()
    asyncio.run(
        run_demo(
            settings,
            simulated,
            speed,
            seed,
            on_ready=lambda url, access: print(f"READY {url} {access.login_url}", flush=True),
            sink_for=faults.sink_for,
        )
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--layout", type=Path, default=None, help="default: the built-in factory")
    ap.add_argument("--models", type=Path, required=True)
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=0, help="default: a free port")
    ap.add_argument("--external", action="append", default=[], help="a machine the simulator does not run")
    a = ap.parse_args()
    main(a.db, a.layout, a.models, a.speed, a.seed, a.port, frozenset(a.external))
