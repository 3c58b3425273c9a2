"""Take the dashboard screenshots of the docs (docs/screenshot-*.png) from a live twin.

Starts the API and the simulator (tests/e2e/twin_process.py, faults on the way), lets the factory run for a
while, then photographs the overview, the 3D floor and a machine panel in headless Chromium at full resolution;
then the operator console of issue 13 (docs/screenshots/*.png): the floor at render scale 0.3 with its HTML labels,
a refused and an undelivered command in the panel, the phone layout at 390 px, and the overview with the server
stopped (stale).

    .venv/bin/python tests/e2e/screenshots.py [--warmup 40] [--out docs] [--models var/models] [--only console]

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

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))

from factorytwin.auth import Role  # noqa: E402
from tests.credentials import token_for  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, EXTERNAL, Device, Twin, wait_for_line  # noqa: E402

SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "warning": 3}


def main() -> None:
    """Run a twin, photograph the dashboard, stop the twin."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warmup", type=float, default=40.0, help="seconds the factory runs before the pictures")
    ap.add_argument("--out", type=Path, default=HERE.parent.parent / "docs")
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--models", type=Path, default=None, help="model registry to serve (from `factorytwin train`)")
    ap.add_argument("--only", choices=("all", "console"), default="all", help="console: only docs/screenshots/")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ft-shots-") as tmp:
        log = Path(tmp) / "twin.log"
        models = str(args.models) if args.models else f"{tmp}/m"
        cmd = [sys.executable, str(HERE / "twin_process.py"), "--db", f"{tmp}/t.db", "--models", models]
        cmd += ["--speed", str(args.speed), "--external", EXTERNAL]
        with log.open("w") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            _, url, login_url = wait_for_line(log, "READY ", proc).split()
            token = asyncio.run(token_for(f"sqlite:///{tmp}/t.db", Role.ADMIN))
            twin = Twin(url, proc, token, cmd, log)
            # The one-time link's session cookie belongs to its host (localhost): the pages open there too.
            base = "/".join(login_url.split("/", 3)[:3])
            with Device(twin):  # the machine no simulator runs, reporting by itself (its commands go nowhere)
                time.sleep(args.warmup)
                listed = twin.api("/alarms").json()
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
                    for name, hash_, wait_ms in shots if args.only == "all" else []:
                        open_view(page, f"{base}/?quality=high{hash_}")
                        if "history" in hash_:
                            page.click("[data-testid=history-range] >> text=15 min")
                        page.wait_for_timeout(wait_ms)
                        shoot(page, args.out / name)
                    console_shots(page, twin, base, args.out / "screenshots")
                    phone = browser.new_context(
                        viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state()
                    ).new_page()  # the same session
                    for name, hash_ in (("phone-overview-390.png", "#/overview"),
                                        ("phone-panel-bottom-sheet-390.png", "#/floor/lathe-02")):  # fmt: skip
                        open_view(phone, f"{base}/{hash_}")
                        phone.wait_for_timeout(8000)  # software WebGL takes a while for the first frames
                        shoot(phone, args.out / "screenshots" / name)
                    # Last: the server goes away, and the overview says everything on it is as of then.
                    open_view(page, f"{base}/#/overview")
                    page.wait_for_timeout(2000)
                    twin.stop()
                    page.wait_for_selector("[data-testid=stale-banner]", timeout=30_000)
                    page.wait_for_timeout(6000)
                    shoot(page, args.out / "screenshots" / "overview-stale.png")
                    browser.close()
        finally:
            proc.terminate()
            proc.wait(15)


def open_view(page: Page, url: str) -> None:
    """Open a dashboard URL and wait for the live stream."""
    page.goto(url)
    page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=30_000)


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def console_shots(page: Page, twin: Twin, base: str, out: Path) -> None:
    """The operator console's truths: labels at render scale 0.3, a refused and an undelivered command."""
    open_view(page, f"{base}/?quality=0.3#/floor/mill-02")
    page.wait_for_timeout(6000)
    shoot(page, out / "floor-html-labels-render-scale-0.3.png")
    # Refused: lathe-02 is stopped, then fails just as the operator presses Start (fault injection).
    open_view(page, f"{base}/?quality=0.3#/floor/lathe-02")
    page.click("[data-testid=cmd-stop]")
    page.click("[data-testid=confirm-stop] [data-testid=cmd-stop-confirm]")
    page.wait_for_selector("[data-testid=machine-panel] [data-testid=status-badge][data-status=stopped]")
    twin.fail_on_next_command("lathe-02", "bearing")
    page.click("[data-testid=cmd-start]")
    page.wait_for_selector("[data-testid=machine-panel] [data-testid=status-badge][data-status=failed]")
    page.wait_for_timeout(1500)
    shoot(page, out / "panel-command-refused.png")
    # Not delivered: a Stop to the machine that reports by itself, which nothing in the twin can reach.
    open_view(page, f"{base}/?quality=0.3#/floor/{EXTERNAL}")
    page.wait_for_selector("[data-testid=machine-panel] [data-testid=status-badge][data-status=running]")
    page.click("[data-testid=cmd-stop]")
    page.click("[data-testid=confirm-stop] [data-testid=cmd-stop-confirm]")
    page.wait_for_selector("[data-testid=command-status][data-phase=undelivered]")
    page.wait_for_timeout(1500)
    shoot(page, out / "panel-command-undelivered.png")


if __name__ == "__main__":
    main()
