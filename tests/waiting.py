"""Awaiting a condition instead of sleeping a fixed time.

A fixed ``sleep`` followed by an assertion is a race: too short under load and the test fails, too long and the
suite is slow. Prefer an event the code under test sets (``TwinService.idle``, a test double that sets an
``asyncio.Event``); where the code offers none, ``until`` re-checks the condition every few milliseconds, so the
test goes on the moment the condition holds and fails only after a generous deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEADLINE_S = 30.0
"""How long a condition may take on a loaded machine before the test fails (it normally holds in milliseconds)."""


async def until(condition: Callable[[], bool], what: str, timeout_s: float = DEADLINE_S) -> None:
    """Return as soon as ``condition()`` is true; fail with ``what`` once ``timeout_s`` passed without it."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        await asyncio.sleep(0.005)
