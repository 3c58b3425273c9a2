"""What-if benchmark: 14 days ahead, the default plant (16 machines), 200 Monte-Carlo runs per plan.

    .venv/bin/python bench/whatif.py                    # baseline + one scenario, 200 runs, 2 workers
    .venv/bin/python bench/whatif.py --runs 200 --workers 2 --dt 120

Prints the wall time of the job (goal < 20 s on the 2-core machine), with the baseline alone and with one
scenario (which doubles the work), and the event-loop lag of this process while the job runs in a worker thread
(the API's situation: the job thread waits on worker processes; p99 of a 10 ms ticker, idle vs during the job).

Then the live twin's reading -> WebSocket latency while a what-if job runs in it (the issue's goal: unchanged within
noise): ``factorytwin serve`` in a subprocess (SQLite, a layout of ``--live-machines`` mills on line A, as
bench/live.py), a producer POSTing ``--live-rate`` readings/s spread over the mills (each mill reports less often
than the stream's coalescing interval, so the pipeline is measured) and a WebSocket client taking now minus each
reading's timestamp (bench/live.py's ``latency_run``). p50/p99 for ``--live-duration`` s idle, then the same while
``POST /scenarios`` runs "line A at 80 %" for 14 days x 200 runs (measured from when the job's fork is built and
it simulates; the job must still be running when the window ends), then idle again.
Figures go to docs/BENCHMARKS.md under "What-if".

    .venv/bin/python bench/whatif.py [--skip-pool] [--skip-live] [--live-duration 20] [--live-rate 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from figures import record
from live import latency_run, prime, server, write_layout

from factorytwin.layout import load_layout
from factorytwin.sim.engine import Engine
from factorytwin.whatif.fork import fork
from factorytwin.whatif.plan import Plan, PlantFacts, check_plan
from factorytwin.whatif.run import run_whatif

GOAL_S = 20.0


async def _lag_p99(seconds: float | None, job: asyncio.Future[Any] | None = None) -> float:
    """p99 lateness (ms) of a 10 ms ticker for ``seconds`` or until ``job`` is done."""
    loop = asyncio.get_running_loop()
    lags = []
    began = loop.time()
    while (job is None and loop.time() - began < (seconds or 0)) or (job is not None and not job.done()):
        t = loop.time()
        await asyncio.sleep(0.01)
        lags.append((loop.time() - t - 0.01) * 1000.0)
    return float(np.percentile(lags, 99)) if lags else 0.0


async def live_during_job(args: argparse.Namespace) -> None:
    """Reading -> WebSocket p50/p99 of a real ``serve`` process, idle, during a what-if job, idle again."""
    with tempfile.TemporaryDirectory(prefix="ft-bench-whatif-") as tmp:
        work = Path(tmp)
        machines = write_layout(work / "layout.yaml", args.live_machines)
        env = {
            "FT_DATABASE_URL": f"sqlite:///{work / 'live.db'}",
            "FT_LAYOUT_PATH": str(work / "layout.yaml"),
            "FT_STREAM_INTERVAL_S": "0.25",
        }
        with server(env, work / "server.log") as (url, headers):
            await prime(url, headers, machines)
            rate, seconds = args.live_rate, args.live_duration
            idle = await latency_run(url, headers, machines, rate, seconds)
            body = {
                "scenarios": [{"name": "line A at 80 %", "speeds": [{"line": "line-a", "speed_pct": 80}]}],
                "horizon_h": args.days * 24.0,
                "runs": args.runs,
            }
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
                r = await http.post("/api/v1/scenarios", json=body)
                r.raise_for_status()
                job = r.json()["id"]
                began = time.perf_counter()
                while (state := (await http.get(f"/api/v1/scenarios/{job}")).json())["progress"] < 0.1:
                    if state["state"] in ("failed", "done", "cancelled"):
                        raise RuntimeError(f"the job ended before it simulated: {state}")
                    await asyncio.sleep(0.2)
                fork_s = time.perf_counter() - began
                during = await latency_run(url, headers, machines, rate, seconds)
                after = (await http.get(f"/api/v1/scenarios/{job}")).json()
                while (done := (await http.get(f"/api/v1/scenarios/{job}")).json())["state"] == "running":  # noqa: ASYNC110
                    await asyncio.sleep(0.5)
                job_s = time.perf_counter() - began
            again = await latency_run(url, headers, machines, rate, seconds)
    inside = after["state"] == "running"
    print(
        f"live twin, {args.live_machines} mills, {rate:,.0f} readings/s, {seconds:g} s windows; what-if job "
        f"{args.runs} runs x {args.days:g} d: fork {fork_s:.1f} s, whole job {job_s:.0f} s ({done['state']}); "
        f"window inside the job: {inside} (progress {after['progress']:.2f} at its end)"
    )
    for name, lat in (("idle", idle), ("during the job", during), ("idle after", again)):
        print(
            f"  reading -> WebSocket {name:>15}: p50 {lat['p50']:.1f} ms  p99 {lat['p99']:.1f} ms  "
            f"max {lat['max']:.1f} ms ({lat['messages']:,} messages, HTTP errors {lat['errors']})"
        )
    record("reading -> WebSocket p99, idle (what-if bench)", idle["p99"], "ms", better="lower")
    record(
        f"reading -> WebSocket p99 during a {args.runs}-run what-if job",
        during["p99"],
        "ms",
        goal="unchanged within noise",
        better="lower",
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dt", type=float, default=120.0)
    parser.add_argument("--skip-pool", action="store_true", help="only the live twin's latency during a job")
    parser.add_argument("--skip-live", action="store_true", help="no live twin's latency")
    parser.add_argument("--live-machines", type=int, default=32)
    parser.add_argument("--live-rate", type=float, default=400.0, help="readings per second")
    parser.add_argument("--live-duration", type=float, default=20.0, help="measured seconds per window")
    args = parser.parse_args()
    if not args.skip_pool:
        await pool_job(args)
    if not args.skip_live:
        await live_during_job(args)


async def pool_job(args: argparse.Namespace) -> None:
    """The job's wall time and this process's event-loop lag, in process (no server)."""
    layout = load_layout()
    engine = Engine(layout, seed=1, noise=False)
    engine.step(60.0, 60)
    snapshot = fork(engine)
    facts = PlantFacts(lines={m.id: m.line for m in layout.machines}, start=snapshot.taken_at, horizon_h=args.days * 24)
    baseline = check_plan(Plan(name="baseline"), facts)
    scenario = check_plan(
        Plan.model_validate(
            {
                "name": "line A at 80 %, press-01's visit in 3 days",
                "speeds": [{"line": "line-a", "speed_pct": 80}],
                "visits": [{"action": "add", "machine_id": "press-01", "at": "P3D"}],
            }
        ),
        facts,
    )
    idle = await _lag_p99(3.0)

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    began, cpu0 = time.perf_counter(), children_cpu()
    run_whatif(snapshot, [], baseline, args.runs, workers=args.workers, dt_s=args.dt)
    wall_alone, cpu_alone = time.perf_counter() - began, children_cpu() - cpu0
    began, cpu0 = time.perf_counter(), children_cpu()
    job = asyncio.ensure_future(
        asyncio.to_thread(
            run_whatif, snapshot, [("scenario", scenario)], baseline, args.runs, workers=args.workers, dt_s=args.dt
        )
    )
    during = await _lag_p99(None, job)
    result = await job
    wall_pair, cpu_pair = time.perf_counter() - began, children_cpu() - cpu0
    comparison = result.comparisons[0]
    print(
        f"{args.days:g} days, {len(layout.machines)} machines, {args.runs} runs, dt {args.dt:g} s, "
        f"{args.workers} workers"
    )
    print(f"  baseline alone:         {wall_alone:.1f} s (worker CPU {cpu_alone:.1f} s)")
    print(f"  baseline + 1 scenario:  {wall_pair:.1f} s (worker CPU {cpu_pair:.1f} s)")
    print(f"  load average after the run: {os.getloadavg()[0]:.1f}")
    print(
        f"  plant failures (baseline): {result.baseline.plant.failures.mean:.1f} "
        f"[{result.baseline.plant.failures.low:.0f}, {result.baseline.plant.failures.high:.0f}]"
    )
    print(
        f"  scenario - baseline: failures {comparison.failures.mean:+.2f} [{comparison.failures.low:+.2f}, "
        f"{comparison.failures.high:+.2f}], total cost {comparison.total_cost.mean:+,.0f} "
        f"[{comparison.total_cost.low:+,.0f}, {comparison.total_cost.high:+,.0f}]"
    )
    print(f"  event-loop lag p99: idle {idle:.2f} ms, during the job {during:.2f} ms")
    record(
        f"what-if {args.days:g} d, 16 machines, {args.runs} runs, baseline only",
        wall_alone,
        "s",
        goal=f"< {GOAL_S:g} s",
        better="lower",
    )
    record(
        f"what-if {args.days:g} d, 16 machines, {args.runs} runs, baseline + 1 scenario",
        wall_pair,
        "s",
        goal=f"< {GOAL_S:g} s",
        better="lower",
    )
    record(f"what-if {args.runs} runs, baseline only, worker CPU", cpu_alone, "s", better="lower")
    record("event-loop lag p99 during a what-if job", during, "ms", better="lower")


if __name__ == "__main__":
    asyncio.run(main())
