"""Take the dashboard screenshots of the docs (docs/screenshot-*.png) from a live twin.

Starts the API and the simulator (tests/e2e/twin_process.py, faults on the way), lets the factory run for a
while, then photographs the overview, the 3D floor and a machine panel in headless Chromium at full resolution.

    .venv/bin/python tests/e2e/screenshots.py [--warmup 40] [--out docs] [--models var/models]

With ``--models`` (a registry made by ``factorytwin simulate --days 60 --out sim.parquet`` and ``factorytwin train
--data sim.parquet --model-dir DIR``) the panel and the overview show predictions and the maintenance plan.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))

from factorytwin.auth import Role  # noqa: E402
from tests.credentials import token_for  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "warning": 3}


def main() -> None:
    """Run a twin, photograph the dashboard, stop the twin."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warmup", type=float, default=40.0, help="seconds the factory runs before the pictures")
    ap.add_argument("--out", type=Path, default=HERE.parent.parent / "docs")
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--models", type=Path, default=None, help="model registry to serve (from `factorytwin train`)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ft-shots-") as tmp:
        log = Path(tmp) / "twin.log"
        models = str(args.models) if args.models else f"{tmp}/m"
        cmd = [sys.executable, str(HERE / "twin_process.py"), "--db", f"{tmp}/t.db", "--models", models]
        with log.open("w") as out:
            proc = subprocess.Popen([*cmd, "--speed", str(args.speed)], stdout=out, stderr=subprocess.STDOUT)
        try:
            url = login_url = ""
            for _ in range(600):
                ready = [ln for ln in log.read_text().splitlines() if ln.startswith("READY ")]
                if ready:
                    _, url, login_url = ready[0].split()
                    break
                time.sleep(0.1)
            if not url:
                raise SystemExit("the twin did not start:\n" + log.read_text())
            time.sleep(args.warmup)
            token = asyncio.run(token_for(f"sqlite:///{tmp}/t.db", Role.VIEWER))
            listed = httpx.get(f"{url}/api/v1/alarms", headers={"Authorization": f"Bearer {token}"}).json()
            alarms = [a for a in listed if a["state"].startswith("active")]
            alarms.sort(key=lambda a: SEVERITY_RANK[a["severity"]])
            focus = alarms[0]["machine_id"] if alarms else "mill-01"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1600, "height": 900})
                page.goto(login_url)  # the demo's one-time link: a session for its admin
                shots = [
                    ("screenshot-overview.png", "#/overview", 3000),
                    ("screenshot-floor.png", "#/floor", 6000),
                    ("screenshot-panel.png", f"#/floor/{focus}", 8000),
                    ("screenshot-history.png", f"#/history/{focus}", 4000),
                ]
                for name, hash_, wait_ms in shots:
                    page.goto(f"{url}/?quality=high{hash_}")
                    page.wait_for_selector("[data-testid=connection][data-status=open]")
                    if "history" in hash_:
                        page.click("[data-testid=history-range] >> text=15 min")
                    page.wait_for_timeout(wait_ms)
                    page.screenshot(path=str(args.out / name))
                    print(f"wrote {args.out / name}")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(15)


if __name__ == "__main__":
    main()
