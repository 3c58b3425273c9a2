"""Alarm noise: the demo's factory for a simulated day through the twin's own alarm rules.

    .venv/bin/python bench/alarms.py                       # 1 simulated day, seed 0, as the demo runs (60x)
    .venv/bin/python bench/alarms.py --days 3 --seeds 0 1 2
    .venv/bin/python bench/alarms.py --no-delays           # on-delay and off-delay 0, 2 % deadband: the old rules

The simulator engine runs as fast as it can, but the twin sees exactly what it sees in ``factorytwin demo``: the
demo's layout with its machines heading for failure (``demo_faults``), one reading set per machine per tick of
``--speed`` simulated seconds (the last sample of the tick, as the real-time driver publishes), stamped with the
time the demo would stamp it (``speed`` times compressed) and read with ``time_scale = speed``. The batches go to a
real ``TwinService`` (``on_ingested``), with its SQLite store.

Figures (goal in brackets):

* alarms raised per machine-hour (simulated hours);
* the share of cleared alarms that lasted under 10 s of the operator's (wall) time [< 5 %];
* the share of failures of predictable modes preceded by an alarm [>= 80 %]: an alarm other than ``failed`` and
  ``offline`` active on the machine at some time in the ``--lookback-h`` simulated hours before the failure.
  Predictable: every mode but ``random`` (by definition) and ``overpressure`` (a misfed double blank, sudden).

Figures go to docs/BENCHMARKS.md under "Alarm noise".
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from figures import record

from factorytwin.config import Settings
from factorytwin.domain import Alarm, FailureMode, TelemetryBatch
from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.sim.realtime import frame_messages
from factorytwin.store.sqlite import SQLiteStore
from factorytwin.twin.bus import InProcessBus
from factorytwin.twin.service import TwinService

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
UNPREDICTABLE = frozenset({FailureMode.RANDOM.value, FailureMode.OVERPRESSURE.value})
NOT_WARNINGS = frozenset({"failed", "offline"})
SHORT_S = 10.0


@dataclass
class Failure:
    """A failure the simulator reported."""

    machine_id: str
    mode: str
    ts: datetime


@dataclass
class RunResult:
    """What one simulated run gave."""

    machines: int
    hours: float
    alarms: list[Alarm] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    wall_s: float = 0.0


async def run(days: float, seed: int, speed: float, no_delays: bool, workdir: Path) -> RunResult:
    """Simulate ``days`` of the demo factory and feed the twin as the demo does; collect alarms and failures."""
    layout = load_layout()
    engine = Engine(layout, seed=seed, start=START, demo_faults=True)
    store = SQLiteStore(workdir / f"bench-alarms-{seed}.db")
    await store.open()
    await store.register_machines(layout.machines)
    settings = Settings(database_url="sqlite:///unused.db", time_scale=speed, offline_after_s=1e9)
    if no_delays:
        settings = settings.model_copy(
            update={"alarm_on_delay_s": 0.0, "alarm_off_delay_s": 0.0, "alarm_deadband": 0.02}
        )
    now = [START]
    twin = TwinService(settings, store, InProcessBus(), clock=lambda: now[0])
    await twin.start()
    seen: dict[int, Alarm] = {}
    result = RunResult(machines=len(layout.machines), hours=days * 24.0)
    began = time.perf_counter()
    ticks = int(days * 86400.0 / speed)
    try:
        for tick in range(1, ticks + 1):
            frame = engine.step(1.0, int(speed))
            now[0] = START + timedelta(seconds=tick)  # the demo's stamp: one wall second per tick
            readings, events = frame_messages(engine, frame, now[0])
            for event in frame.events:
                if event.event == "failure" and event.mode is not None:
                    result.failures.append(Failure(event.machine_id, event.mode, now[0]))
            await twin.on_ingested(TelemetryBatch.model_validate({"readings": readings, "events": events}), 1)
            for by_type in twin.alarms.active.values():
                for alarm in by_type.values():
                    seen.setdefault(id(alarm), alarm)
        await twin.idle()
    finally:
        await twin.stop()
        await store.close()
    result.wall_s = time.perf_counter() - began
    result.alarms = list(seen.values())
    return result


def preceded(failure: Failure, alarms: list[Alarm], lookback: timedelta) -> bool:
    """True when an alarm (not ``failed``/``offline``) was active on the machine within ``lookback`` before."""
    since = failure.ts - lookback
    for alarm in alarms:
        if alarm.machine_id != failure.machine_id or alarm.type in NOT_WARNINGS:
            continue
        if alarm.raised_at <= failure.ts and (alarm.cleared_at is None or alarm.cleared_at >= since):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=1.0, help="simulated days per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="simulator seeds")
    parser.add_argument("--speed", type=float, default=60.0, help="the demo's speed-up (simulated s per tick)")
    parser.add_argument("--lookback-h", type=float, default=1.0, help="hours before a failure an alarm may be")
    parser.add_argument("--no-delays", action="store_true", help="rules without on/off-delay, 2 %% deadband")
    args = parser.parse_args()
    print("command: .venv/bin/python bench/alarms.py " + shlex.join(sys.argv[1:]))

    alarms: list[Alarm] = []
    failures: list[Failure] = []
    machine_hours = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            res = asyncio.run(run(args.days, seed, args.speed, args.no_delays, Path(tmp)))
            print(f"seed {seed}: {len(res.alarms)} alarms, {len(res.failures)} failures, {res.wall_s:.1f} s")
            alarms += res.alarms
            failures += res.failures
            machine_hours += res.machines * res.hours

    per_machine_hour = len(alarms) / machine_hours
    cleared = [a for a in alarms if a.cleared_at is not None]
    # Reading time is wall time in the demo: one tick (``speed`` simulated seconds) per wall second.
    short = [a for a in cleared if a.cleared_at is not None and (a.cleared_at - a.raised_at).total_seconds() < SHORT_S]
    short_share = len(short) / len(cleared) if cleared else 0.0
    lookback = timedelta(seconds=args.lookback_h * 3600.0 / args.speed)  # in reading time
    predictable = [f for f in failures if f.mode not in UNPREDICTABLE]
    warned = [f for f in predictable if preceded(f, alarms, lookback)]
    warned_share = len(warned) / len(predictable) if predictable else float("nan")

    by_type = Counter(a.type for a in alarms)
    print(f"\nalarms by type: {dict(by_type.most_common())}")
    print(f"short alarms by type: {dict(Counter(a.type for a in short).most_common())}")
    modes = Counter((f.mode, preceded(f, alarms, lookback)) for f in failures)
    print(f"failures (mode, preceded by an alarm): {dict(modes)}")
    print(
        f"\n{len(alarms)} alarms in {machine_hours:g} machine-hours: {per_machine_hour:.3f} per machine-hour"
        f"\n{len(short)} of {len(cleared)} cleared alarms lasted under {SHORT_S:g} s: {short_share:.1%} (goal < 5 %)"
        f"\n{len(warned)} of {len(predictable)} failures of predictable modes preceded by an alarm within "
        f"{args.lookback_h:g} h: {warned_share:.0%} (goal >= 80 %)"
    )
    record("alarms per machine-hour", per_machine_hour, "1/h", better="lower")
    record("alarms clearing within 10 s", 100.0 * short_share, "%", goal="< 5", better="lower")
    record("predictable failures preceded by an alarm", 100.0 * warned_share, "%", goal=">= 80")
    return 0


if __name__ == "__main__":
    sys.exit(main())
