"""Dashboard frame rate: the 3D floor in headless Chromium while 20 machines stream telemetry at 1 Hz each.

Starts the real API (a subprocess on a free port, temporary SQLite database, a 20-machine layout), posts one
reading set per machine per second over HTTP (with an operator's API token), opens the dashboard in Debian's
Chromium (software WebGL, SwiftShader: no GPU here) logged in as a viewer, and counts requestAnimationFrame callbacks
over a measuring window. In the same run and browser, an empty scene (a full-window WebGL canvas cleared every
frame, nothing drawn) gives the renderer's own limit on this box: the floor's figure is also given as a ratio to it.

    .venv/bin/python bench/web_fps.py [--seconds 10] [--machines 20] [--width 1600 --height 900] [--full-resolution]

Needs the built dashboard (`make web`) and /usr/bin/chromium. Prints the figures and the command that made them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from figures import record
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.credentials: users and tokens

from factorytwin.auth import Role
from factorytwin.domain import CATALOGUE, Machine, MachineKind
from factorytwin.layout import load_layout
from tests.credentials import token_for, user_for

PASSWORD = "bench-password-1"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXTRA_KINDS = [MachineKind.CNC_MILL, MachineKind.LATHE, MachineKind.PUMP, MachineKind.ROBOT_ARM]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def layout_with(n: int) -> dict[str, object]:
    """The built-in factory, grown (or cut) to ``n`` machines; extra machines join the utilities line."""
    layout = load_layout()
    machines: list[Machine] = list(layout.machines[:n])
    for i in range(n - len(machines)):
        kind = EXTRA_KINDS[i % len(EXTRA_KINDS)]
        machines.append(
            Machine(id=f"extra-{i + 1:02d}", name=f"Extra {i + 1}", profile=kind, line="line-c", x=24.0 + 4 * i, y=12.0)
        )
    return layout.model_copy(update={"machines": machines}).model_dump(mode="json")


def feed(base: str, machines: list[dict[str, object]], token: str, stop: threading.Event) -> None:
    """Post one reading set per machine every second (values inside each sensor's normal band) until ``stop``."""
    t0 = time.monotonic()
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        while not stop.is_set():
            now = datetime.now(UTC).isoformat()
            readings = []
            for m in machines:
                values = {}
                for spec in CATALOGUE[MachineKind(str(m["kind"]))]:
                    mid = (spec.normal_low + spec.normal_high) / 2
                    span = spec.normal_high - spec.normal_low
                    wave = math.sin((time.monotonic() - t0) / 15 + len(spec.key))
                    values[spec.key] = mid + 0.2 * span * wave + random.gauss(0, 0.002 * span)
                readings.append({"machine_id": m["id"], "ts": now, "values": values})
            client.post(f"{base}/api/v1/telemetry", json={"readings": readings}).raise_for_status()
            stop.wait(max(0.0, 1.0 - (time.monotonic() - t0) % 1.0))


EMPTY_SCENE = """<!doctype html><html><body style="margin:0;background:#0b0e13">
<canvas id="c" style="width:100vw;height:100vh;display:block"></canvas>
<script>
const c = document.getElementById("c");
c.width = innerWidth; c.height = innerHeight;
const gl = c.getContext("webgl2");
const draw = (t) => { gl.clearColor(0.04, 0.05 + 0.01 * Math.sin(t / 500), 0.07, 1); gl.clear(gl.COLOR_BUFFER_BIT);
  requestAnimationFrame(draw); };
requestAnimationFrame(draw);
</script></body></html>"""
"""An empty scene: the same window size, WebGL cleared every frame and nothing drawn (the renderer's own limit)."""

COUNT_FRAMES = """async (ms) => {
  const t0 = performance.now();
  let frames = 0, worst = 0, last = t0;
  await new Promise((done) => {
    const tick = (t) => {
      frames += 1; worst = Math.max(worst, t - last); last = t;
      if (t - t0 < ms) requestAnimationFrame(tick); else done();
    };
    requestAnimationFrame(tick);
  });
  return { frames, elapsed: performance.now() - t0, worst };
}"""


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--machines", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--width", type=int, default=1600)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--full-resolution", action="store_true", help="pin render scale 1 with MSAA (?quality=high)")
    args = ap.parse_args()

    exe = shutil.which("factorytwin") or str(Path(sys.executable).parent / "factorytwin")
    with tempfile.TemporaryDirectory(prefix="ft-webfps-") as tmp:
        layout = layout_with(args.machines)
        layout_path = Path(tmp) / "layout.json"
        layout_path.write_text(json.dumps(layout))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        database_url = f"sqlite:///{tmp}/bench.db"
        feeder_token = asyncio.run(token_for(database_url, Role.OPERATOR))
        asyncio.run(user_for(database_url, "bench", Role.VIEWER, PASSWORD))
        env = {**os.environ, "FT_MODEL_DIR": str(Path(tmp) / "models")}
        cmd = [exe, "serve", "--port", str(port), "--database-url", database_url]
        server = subprocess.Popen(
            [*cmd, "--layout", str(layout_path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stop = threading.Event()
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the API did not start")
                time.sleep(0.2)
            feeder = threading.Thread(target=feed, args=(base, layout["machines"], feeder_token, stop), daemon=True)
            feeder.start()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                results = {}
                page.set_content(EMPTY_SCENE)
                page.wait_for_timeout(args.warmup * 1000)
                r = page.evaluate(COUNT_FRAMES, args.seconds * 1000)
                results["empty scene"] = (r["frames"] * 1000 / r["elapsed"], r["worst"], "-", 1)
                login = page.request.post(f"{base}/api/v1/auth/login", data={"username": "bench", "password": PASSWORD})
                if not login.ok:
                    raise SystemExit(f"could not log in: {login.status} {login.text()}")
                for label, hash_ in (("3D floor", "#/floor"), ("3D floor + machine panel", "#/floor/mill-01")):
                    page.goto(f"{base}/{'?quality=high' if args.full_resolution else ''}{hash_}")
                    page.wait_for_selector("canvas", timeout=30_000)
                    page.wait_for_timeout(args.warmup * 1000)
                    r = page.evaluate(COUNT_FRAMES, args.seconds * 1000)
                    status = page.evaluate("() => document.querySelector('[data-testid=connection]')?.dataset.status")
                    dpr = page.evaluate("() => window.__ftFloorDpr ?? window.devicePixelRatio")
                    results[label] = (r["frames"] * 1000 / r["elapsed"], r["worst"], status, dpr)
                renderer = page.evaluate(
                    """() => { const g = document.createElement('canvas').getContext('webgl2');
                    const e = g && g.getExtension('WEBGL_debug_renderer_info');
                    return e ? g.getParameter(e.UNMASKED_RENDERER_WEBGL) : 'unknown'; }"""
                )
                browser.close()
        finally:
            stop.set()
            server.terminate()
            server.wait(10)

    print(f"dashboard fps, {args.machines} machines streaming at 1 Hz, {args.width}x{args.height}, headless Chromium")
    print(f"renderer: {renderer}")
    empty = results["empty scene"][0]
    for label, (fps, worst, status, dpr) in results.items():
        if label == "empty scene":
            record("dashboard fps: empty scene (renderer limit)", fps, "fps")
        else:
            record(f"dashboard fps: {label}", fps, "fps", goal="> 30" if "panel" not in label else "")
            record(f"dashboard fps: {label} / empty scene", fps / empty, "x")
        print(
            f"  {label:<26} {fps:6.1f} fps ({fps / empty:4.2f} x empty)   worst frame {worst:6.1f} ms   "
            f"render scale {dpr}   stream {status}"
        )
    print("command: .venv/bin/python bench/web_fps.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
