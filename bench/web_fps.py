"""Dashboard frame rate: the 3D floor in headless Chromium while 20 machines stream telemetry at 1 Hz each.

Starts the real API (a subprocess on a free port, temporary SQLite database, a 20-machine layout), posts one
reading set per machine per second over HTTP, opens the dashboard in Debian's Chromium (software WebGL,
SwiftShader: no GPU here) and counts requestAnimationFrame callbacks over a measuring window.

    .venv/bin/python bench/web_fps.py [--seconds 10] [--machines 20] [--width 1600 --height 900] [--full-resolution]

Needs the built dashboard (`make web`) and /usr/bin/chromium. Prints the figures and the command that made them.
"""

from __future__ import annotations

import argparse
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

from factorytwin.domain import CATALOGUE, Machine, MachineKind
from factorytwin.layout import load_layout

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
            Machine(id=f"extra-{i + 1:02d}", name=f"Extra {i + 1}", kind=kind, line="line-c", x=24.0 + 4 * i, y=12.0)
        )
    return layout.model_copy(update={"machines": machines}).model_dump(mode="json")


def feed(base: str, machines: list[dict[str, object]], stop: threading.Event) -> None:
    """Post one reading set per machine every second (values inside each sensor's normal band) until ``stop``."""
    t0 = time.monotonic()
    with httpx.Client(timeout=10) as client:
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
        env = {**os.environ, "FT_MODEL_DIR": str(Path(tmp) / "models")}
        cmd = [exe, "serve", "--port", str(port), "--database-url", f"sqlite:///{tmp}/bench.db"]
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
            feeder = threading.Thread(target=feed, args=(base, layout["machines"], stop), daemon=True)
            feeder.start()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                results = {}
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
    for label, (fps, worst, status, dpr) in results.items():
        record(f"dashboard fps: {label}", fps, "fps", goal="> 30" if "panel" not in label else "")
        print(f"  {label:<26} {fps:6.1f} fps   worst frame {worst:6.1f} ms   render scale {dpr}   stream {status}")
    print("command: .venv/bin/python bench/web_fps.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
