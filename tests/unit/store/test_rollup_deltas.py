"""``rollup.deltas``: the minute, hour and day aggregates of a batch, against a loop over every reading."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import numpy as np

from factorytwin.store import rollup

Key = tuple[int, int, int]


def brute(rows: list[tuple[int, int, int, float]], unit_ms: int) -> dict[Key, tuple[float, float, float, int]]:
    """Per (machine, sensor, unit): min and max as PostgreSQL orders doubles (NaN above every number), sum, count."""
    groups: dict[Key, list[float]] = defaultdict(list)
    for machine, sensor, ts, value in rows:
        if ts >= 0:
            groups[(machine, sensor, ts // unit_ms)].append(value)
    out = {}
    for key, vs in groups.items():
        numbers = [v for v in vs if not math.isnan(v)]
        lo = min(numbers) if numbers else math.nan
        hi = math.nan if len(numbers) < len(vs) else max(vs)
        out[key] = (lo, hi, math.fsum(vs) if numbers == vs else math.nan, len(vs))
    return out


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_every_level_is_the_aggregate_of_its_readings_sorted_by_key() -> None:
    rng = random.Random(15)
    rows = [
        (
            rng.choice([1, 2, 9]),
            rng.choice([3, 4]),
            rng.randrange(-3 * 86_400_000, 5 * 86_400_000),
            rng.choice([math.nan, round(rng.uniform(-5, 5), 3), round(rng.uniform(-5, 5), 3)]),
        )
        for _ in range(5_000)
    ]
    machines, sensors, ts, values = (np.array(c) for c in zip(*rows, strict=True))
    got = rollup.deltas(machines.astype(np.int32), sensors.astype(np.int16), ts, values.astype(np.float64))
    assert [d.level for d in got] == [rollup.MINUTE, rollup.HOUR, rollup.DAY]
    for d in got:
        keys = list(zip(d.machine.tolist(), d.sensor.tolist(), d.unit.tolist(), strict=True))
        assert keys == sorted(set(keys))  # distinct, in key order
        want = brute(rows, d.level.unit_ms)
        assert set(keys) == set(want)
        for i, key in enumerate(keys):
            lo, hi, total, n = want[key]
            assert same(d.vmin[i], lo), key
            assert same(d.vmax[i], hi), key
            assert int(d.n[i]) == n
            assert same(d.vsum[i], total) or math.isclose(d.vsum[i], total, rel_tol=1e-12, abs_tol=1e-9)


def test_readings_before_1970_are_never_rolled_up() -> None:
    got = rollup.deltas(np.array([1, 1]), np.array([2, 2]), np.array([-1, -60_000]), np.array([1.0, 2.0]))
    assert got == []
