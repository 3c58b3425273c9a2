"""A simulated year of maintenance decisions: the recommended schedule alone vs choosing between it and its variants
by what-if, vs no planned maintenance at all (issue 16's "Done when").

The truth is the default factory (16 machines, ``--seed``), simulated by the engine itself (``Engine.step``, exact
events, no measurement noise), from a shift start. Every ``--period-h`` (72 h: the schedule's planning window, so
decisions always fall on a shift start) the plant is forked and each arm decides its planned visits for the period:

- ``none``: no planned visits; only the simulator's built-in preventive maintenance (every machine at its kind's
  interval), which every arm has too;
- ``schedule``: the recommended schedule (``ml.schedule.plan_maintenance`` with the default ``CostModel``) as a plan
  (``plan_from_schedule``), applied as it is;
- ``whatif``: the same schedule, then a what-if Monte-Carlo of ``--runs`` runs over ``--horizon-h`` of four plans
  (the schedule, every visit a shift earlier, a shift later, none) and per machine the option of lowest expected
  cost (``whatif.select.choose``), within the technicians' visits per shift.

The predictor that feeds the schedule is a stand-in (``whatif.select.oracle_predictions``): P(failure within 24 h)
and the time to the first failure from a no-plan Monte-Carlo of the fork (``--runs`` runs, 72 h, its own seed):
the simulator's own risk, better than a trained LightGBM model, the same in both arms. The truth then runs the
period with the arm's plan (visits by ``Engine.start_maintenance`` at their times, as the what-if replicas do).
Common random numbers: at every period the truth's random stream is restarted from (seed, period) in every arm, and
the predictor and the what-if use seeds of (seed, period) too.

Realised cost (``CostModel``, as the what-if results): repairs 6,000 per failure + 800 per visit (built-in and
planned) + 400 per hour of downtime (repairs, visits, tool changes; nominal durations). The arms run in parallel
processes. Writes docs/img/whatif_year.png and var/whatif_year.json.

    .venv/bin/python bench/whatif_year.py            # 365 days, 40 runs x 120 h per decision (~15 min, 2 cores)
    .venv/bin/python bench/whatif_year.py --quick    # 42 days, 20 runs (~2 min)
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty
from typing import Any

import numpy as np
from figures import record
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from factorytwin.layout import load_layout
from factorytwin.ml.schedule import CostModel, plan_maintenance
from factorytwin.sim.engine import Engine
from factorytwin.sim.state import STATUSES, SimEvent
from factorytwin.whatif.fork import fork, restore
from factorytwin.whatif.plan import Plan, PlantFacts, Timetable, check_plan, plan_from_schedule
from factorytwin.whatif.run import run_tallies
from factorytwin.whatif.select import choose, machine_costs, oracle_predictions, variants

ROOT = Path(__file__).resolve().parent.parent
PLOT = ROOT / "docs" / "img" / "whatif_year.png"
OUT = ROOT / "var" / "whatif_year.json"
START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday, at a shift start of the default calendar (06:00 UTC)
ARMS = ("whatif", "schedule", "none")
DT_S = 120.0


@dataclass
class Period:
    """What happened in the truth over one period of one arm."""

    cost: float = 0.0
    failures: int = 0
    downtime_h: float = 0.0
    built_in_visits: int = 0
    planned_visits: int = 0
    tool_changes: int = 0
    scheduled: int = 0  # visits the schedule recommended
    options: dict[str, int] = field(default_factory=dict)  # whatif: how many visits got each option
    expected_gain: float = 0.0  # whatif: expected cost saved against the schedule, by the what-if's own estimate


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def truth_period(engine: Engine, table: Timetable, period_s: float, cost: CostModel) -> Period:
    """Run the truth one period applying the plan's visits; tally what happened."""
    t0 = engine.t
    events: list[SimEvent] = []
    for at, i, hours in sorted(table.added_visits):
        n = round((t0 + at - engine.t) / DT_S)
        if n > 0:
            events += engine.step(DT_S, n).events
        engine.start_maintenance(i, hours, "planned")
    n = round((t0 + period_s - engine.t) / DT_S)
    if n > 0:
        events += engine.step(DT_S, n).events
    events += engine.pending
    engine.pending = []
    out = Period()
    for e in events:
        if e.event == "failure":
            out.failures += 1
            hours = e.data.get("repair_hours", 0.0)
            out.downtime_h += float(hours) if isinstance(hours, int | float) else 0.0
        elif e.event == "maintenance":
            if e.data.get("reason") == "service":
                out.tool_changes += 1
                g, _ = engine.group_of(engine.index[e.machine_id])
                out.downtime_h += g.model.service_minutes / 60.0
            else:
                hours = e.data.get("hours", 4.0)
                out.downtime_h += float(hours) if isinstance(hours, int | float) else 0.0
                if e.data.get("reason") == "planned":
                    out.planned_visits += 1
                else:
                    out.built_in_visits += 1
    visits = out.planned_visits + out.built_in_visits
    out.cost = (
        out.failures * cost.failure_repair_cost + visits * cost.pm_cost + out.downtime_h * cost.downtime_cost_per_h
    )
    return out


def run_arm(arm: str, args: argparse.Namespace, queue: Any) -> list[dict[str, Any]]:
    """One arm over the whole study; progress on ``queue`` as (arm, periods done)."""
    cost = CostModel()
    layout = load_layout().simulated()
    lines = {m.id: m.line for m in layout.machines}
    engine = Engine(layout, seed=args.seed, start=START, noise=False, production=False)
    period_s = args.period_h * 3600.0
    periods = math.ceil(args.days * 24.0 / args.period_h)
    out = []
    for k in range(periods):
        snapshot = fork(engine)
        now = snapshot.taken_at
        plan = Plan(name="none")
        scheduled = 0
        options: dict[str, int] = {}
        gain = 0.0
        if arm != "none":
            horizon = check_plan(Plan(), PlantFacts(lines=lines, start=now, horizon_h=cost.planning_horizon_h))
            (free,) = run_tallies(snapshot, [horizon], args.runs, seed=_seed(args.seed, k, 1), workers=0)
            statuses = [STATUSES[int(c)].value for c in engine.status]
            predictions = oracle_predictions(
                free, snapshot.machine_ids, statuses, now, horizon_h=24.0, censor_h=cost.planning_horizon_h
            )
            plan = plan_from_schedule(plan_maintenance(predictions, cost, now))
            scheduled = len(plan.visits)
            if arm == "whatif" and plan.visits:
                facts = PlantFacts(lines=lines, start=now, horizon_h=args.horizon_h)
                candidates = variants(plan, cost, now, args.horizon_h)
                names = list(candidates)
                tallies = run_tallies(
                    snapshot,
                    [check_plan(candidates[o], facts) for o in names],
                    args.runs,
                    seed=_seed(args.seed, k, 2),
                    workers=0,
                )
                costs = {o: machine_costs(t, cost) for o, t in zip(names, tallies, strict=True)}
                plan, choices = choose(candidates, costs, snapshot.machine_ids, cost, now, z=args.z)
                for c in choices:
                    options[c.option] = options.get(c.option, 0) + 1
                gain = sum(c.gain for c in choices)
        table = check_plan(plan, PlantFacts(lines=lines, start=now, horizon_h=args.period_h))
        engine = restore(snapshot, seed=_seed(args.seed, k, 0))  # the truth's stream: the same in every arm
        period = truth_period(engine, table, period_s, cost)
        period.scheduled, period.options, period.expected_gain = scheduled, options, round(gain, 2)
        out.append(asdict(period))
        queue.put((arm, k + 1))
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The year's totals of one arm."""
    keys = ("cost", "failures", "downtime_h", "built_in_visits", "planned_visits", "tool_changes", "scheduled")
    return {key: float(sum(r[key] for r in rows)) for key in keys}


def plot(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace, path: Path) -> None:
    """Cumulative realised cost per arm, and its difference from the schedule alone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {
        "whatif": "schedule chosen by what-if",
        "schedule": "recommended schedule alone",
        "none": "no planned visits (built-in PM only)",
    }
    colors = {"whatif": "tab:green", "schedule": "tab:blue", "none": "tab:red"}
    fig, (a, b) = plt.subplots(2, 1, figsize=(10, 7.2), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for arm, rows in results.items():
        days = np.arange(1, len(rows) + 1) * args.period_h / 24.0
        cum = np.cumsum([r["cost"] for r in rows]) / 1000.0
        a.plot(days, cum, color=colors[arm], label=f"{labels[arm]}: {cum[-1]:,.0f} k")
    a.set(
        ylabel="cumulative realised cost (thousands)",
        title=f"Simulated {args.days:g} days, default factory, seed {args.seed}: decisions every {args.period_h:g} h",
    )
    a.legend(loc="upper left")
    a.grid(alpha=0.3)
    base = np.cumsum([r["cost"] for r in results["schedule"]])
    for arm in ("whatif", "none"):
        if arm in results:
            days = np.arange(1, len(base) + 1) * args.period_h / 24.0
            diff = (np.cumsum([r["cost"] for r in results[arm]]) - base) / 1000.0
            b.plot(days, diff, color=colors[arm], label=f"{labels[arm]} - schedule alone")
    b.axhline(0.0, color="tab:blue", lw=0.8)
    b.set(xlabel="day", ylabel="difference (thousands)")
    b.legend(loc="best")
    b.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> int:
    """Run the arms in parallel, print the totals, plot, record."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--period-h", type=float, default=72.0, help="hours between decisions")
    ap.add_argument("--horizon-h", type=float, default=120.0, help="what-if horizon of each decision, hours")
    ap.add_argument("--runs", type=int, default=40, help="Monte-Carlo runs of the predictor and of the what-if")
    ap.add_argument("--z", type=float, default=0.0, help="deviate from the schedule only when z standard errors lower")
    ap.add_argument("--workers", type=int, default=2, help="processes for the arms")
    ap.add_argument("--quick", action="store_true", help="42 days, 20 runs")
    ap.add_argument("--plot", type=Path, default=PLOT)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.quick:
        args.days, args.runs = 42.0, 20
    console = Console(width=140)
    command = shlex.join([".venv/bin/python", "bench/whatif_year.py", *sys.argv[1:]])
    console.print(f"command: {command}")
    periods = math.ceil(args.days * 24.0 / args.period_h)
    began = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(max_workers=args.workers, mp_context=ctx) as pool:
        queue = manager.Queue()
        futures = {arm: pool.submit(run_arm, arm, args, queue) for arm in ARMS}
        with Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            bars = {arm: progress.add_task(arm, total=periods) for arm in ARMS}
            while not all(f.done() for f in futures.values()):
                try:
                    arm, done = queue.get(timeout=0.5)
                    progress.update(bars[arm], completed=done)
                except Empty:
                    pass
        results = {arm: f.result() for arm, f in futures.items()}
    wall = time.perf_counter() - began
    totals = {arm: summary(rows) for arm, rows in results.items()}
    table = Table(
        title=f"Realised over {args.days:g} simulated days ({periods} decisions, {args.runs} runs x "
        f"{args.horizon_h:g} h per what-if)"
    )
    for col in (
        "arm",
        "cost",
        "vs schedule",
        "failures",
        "downtime h",
        "planned visits",
        "built-in visits",
        "tool changes",
    ):
        table.add_column(col, justify="left" if col == "arm" else "right")
    ref = totals["schedule"]["cost"]
    for arm in ARMS:
        t = totals[arm]
        table.add_row(
            arm,
            f"{t['cost']:,.0f}",
            f"{t['cost'] - ref:+,.0f} ({100 * (t['cost'] / ref - 1):+.1f} %)",
            f"{t['failures']:.0f}",
            f"{t['downtime_h']:,.0f}",
            f"{t['planned_visits']:.0f}",
            f"{t['built_in_visits']:.0f}",
            f"{t['tool_changes']:.0f}",
        )
    console.print(table)
    opts: dict[str, int] = {}
    for r in results["whatif"]:
        for o, c in r["options"].items():
            opts[o] = opts.get(o, 0) + c
    console.print(
        f"schedule recommended {totals['schedule']['scheduled']:.0f} visits in the schedule arm, "
        f"{totals['whatif']['scheduled']:.0f} in the what-if arm; what-if chose: "
        + ", ".join(f"{o} {opts.get(o, 0)}" for o in ("keep", "earlier", "later", "drop"))
        + f"; its own expected saving {sum(r['expected_gain'] for r in results['whatif']):,.0f}"
    )
    console.print(f"wall {wall:.0f} s, load average {os.getloadavg()[0]:.1f}")
    record(
        f"what-if choice vs the schedule alone, realised cost over {args.days:g} simulated days",
        100.0 * (totals["whatif"]["cost"] / ref - 1.0),
        "%",
        goal="< 0",
        better="lower",
    )
    record(
        "no planned visits vs the schedule alone, realised cost",
        100.0 * (totals["none"]["cost"] / ref - 1.0),
        "%",
        better="lower",
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"command": command, "wall_s": wall, "totals": totals, "periods": results}))
    plot(results, args, args.plot)
    console.print(f"plot: {args.plot}; data: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
