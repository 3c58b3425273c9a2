"""The whole twin in one process for the browser tests: the real API on a free port and the real simulator.

The simulator publishes over HTTP to the API, exactly as from another host; commands reach it in process (the
dispatcher's sink), so the tests need no MQTT broker shared with other test runs. Prints ``READY <url>`` once
the API answers, then runs until terminated.

    python tests/e2e/twin_process.py --db /tmp/x.db --models /tmp/models [--layout layout.json] [--speed 60] [--port N]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from factorytwin.config import Settings
from factorytwin.demo import run_demo
from factorytwin.layout import load_layout


def main(db: Path, layout_path: Path | None, models: Path, speed: float, seed: int, port: int = 0) -> None:
    """Serve and simulate (the demo's own loop, without its first-start training) until SIGTERM/SIGINT.

    ``port`` 0 takes a free port; a given one lets a test restart the twin where the page expects it.
    """
    settings = Settings(
        database_url=f"sqlite:///{db}", mqtt_url=None, layout_path=layout_path, model_dir=models, port=port
    )
    asyncio.run(
        run_demo(
            settings,
            load_layout(layout_path),
            speed,
            seed,
            on_ready=lambda url, access: print(f"READY {url} {access.login_url}", flush=True),
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
    a = ap.parse_args()
    main(a.db, a.layout, a.models, a.speed, a.seed, a.port)
