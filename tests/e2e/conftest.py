"""Browser tests: the real API and simulator in a subprocess, the built dashboard, Debian's headless Chromium.

One twin per test session (API on a free port, temporary SQLite database, simulator at 60x with machines heading
to failure); each test gets a fresh page that records console errors and uncaught exceptions.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from factorytwin.api.app import STATIC_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Software WebGL (SwiftShader): there is no GPU on the test machines.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TWIN_PROCESS = Path(__file__).with_name("twin_process.py")
SPEED = 60.0


@dataclass
class Twin:
    """The running twin under test."""

    url: str
    process: subprocess.Popen[str]

    def api(self, path: str) -> httpx.Response:
        """GET an API path (``/machines``...) of the running twin."""
        return httpx.get(f"{self.url}/api/v1{path}", timeout=10)


@dataclass
class BrowserPage:
    """A page and what it has complained about."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def goto(self, twin: Twin, hash_: str = "") -> None:
        """Open the dashboard at ``hash_`` (e.g. ``#/overview``) and wait for the live stream."""
        self.page.goto(f"{twin.url}/{hash_}")
        self.page.wait_for_selector("[data-testid=connection][data-status=open]", timeout=20_000)


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    """The API and the simulator (at 60x, with faults on the way), until the session ends."""
    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail(f"the dashboard is not built in {STATIC_DIR}: run `make web` (npm ci && npm run build in web/)")
    tmp = tmp_path_factory.mktemp("twin")
    log_path = tmp / "twin.log"
    cmd = [sys.executable, str(TWIN_PROCESS), "--db", str(tmp / "e2e.db"), "--models", str(tmp / "models")]
    # The process's output goes to a file: a pipe nobody reads would fill up and block it.
    with log_path.open("w") as log:
        proc = subprocess.Popen([*cmd, "--speed", str(SPEED)], stdout=log, stderr=subprocess.STDOUT, text=True)
    url = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        ready = [ln for ln in log_path.read_text().splitlines() if ln.startswith("READY ")]
        if ready:
            url = ready[0].split()[1]
            break
        time.sleep(0.1)
    if not url:
        proc.kill()
        pytest.fail("the twin process did not start:\n" + log_path.read_text())
    try:
        yield Twin(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def playwright_() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser)."""
    b = playwright_.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def bpage(browser: Browser) -> Iterator[BrowserPage]:
    """A fresh 1600x900 page recording console errors and page errors."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    bp = BrowserPage(page)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            bp.errors.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: bp.errors.append(f"pageerror: {exc}"))
    yield bp
    context.close()


def lit_fraction(png: bytes, background: tuple[int, int, int] = (11, 14, 19), tolerance: int = 24) -> float:
    """Share of pixels of a screenshot that differ from the background colour by more than ``tolerance``."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    far = np.abs(rgb - np.array(background, dtype=np.int16)).max(axis=2) > tolerance
    return float(far.mean())


def distinct_colours(png: bytes, step: int = 32) -> int:
    """How many colours a screenshot has, quantised to ``step`` levels per channel (a blank canvas has one)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32) // step
    return len(np.unique(rgb.reshape(-1, 3) @ np.array([65536, 256, 1])))
