"""Machine-readable figures: every benchmark prints its key figures through ``record`` as well as in prose, so
``bench/run_all.py`` can gather them into one table (a ``BENCH-RESULT {json}`` line each)."""

from __future__ import annotations

import json

PREFIX = "BENCH-RESULT "


def record(name: str, value: float, unit: str, *, goal: str = "", better: str = "higher") -> None:
    """Print one figure: ``name`` (what was measured), its ``value`` and ``unit``, the project's ``goal``."""
    line = {"name": name, "value": float(value), "unit": unit, "goal": goal, "better": better}
    print(PREFIX + json.dumps(line), flush=True)
