"""HTTP ingest into PostgreSQL beside a raw COPY of the same rows, alternating in one run (issue 15's 0.6 goal).

``bench/peers.py --parts http`` runs three sides at three sizes for one second each with ``--quick``; on a busy
shared box that is too short to tell one PostgreSQL change from another. This drives only factorytwin on
PostgreSQL, at one request size, for longer, and after each stretch the raw limit (``copy_records_to_table`` of
the same rows into a bare table of the same shape, one transaction per request, as ``peers.py`` measures it),
with the CPU split: the factorytwin process and its database backends, the raw client and its backend.

    PYTHONPATH=$PWD/src:$PWD .venv/bin/python bench/pg_ingest.py [--size 5040] [--duration 6] [--reps 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
from databases import fresh_postgres
from figures import record
from ingest import cpu_seconds
from peers import Side, Workload, drive, factorytwin, json_body, pg_backends, raw_copy


async def main_async(size: int, duration: float, reps: int) -> None:
    wl = Workload.default()
    with TemporaryDirectory(prefix="ft-bench-pg-ingest-") as tmp:
        async with fresh_postgres() as dsn:
            with factorytwin({"FT_DATABASE_URL": dsn}, Path(tmp) / "ft-pg.log") as (url, pid, headers):
                backends: list[int] = []
                side = Side(
                    "postgresql",
                    url,
                    "/api/v1/telemetry",
                    {**headers, "content-type": "application/json"},
                    json_body,
                    lambda: [pid, *backends],
                )
                await drive(side, wl, 480, 0.5)  # the first request opens the store's connections
                backends.extend(await pg_backends(dsn))
                raw = await asyncpg.connect(dsn)
                await raw.execute(
                    "CREATE TABLE r (machine INTEGER NOT NULL, sensor INTEGER NOT NULL, ts BIGINT NOT NULL,"
                    " value DOUBLE PRECISION NOT NULL, PRIMARY KEY (machine, sensor, ts))"
                )
                raw_pid = int(await raw.fetchval("SELECT pg_backend_pid()"))
                state = {"instant": 0}
                ratios: list[float] = []
                for rep in range(reps):
                    s0, b0, n0 = cpu_seconds(pid), sum(cpu_seconds(b) for b in backends), side.acked
                    r = await drive(side, wl, size, duration)
                    n = side.acked - n0  # with the warm-up request, whose CPU is counted too
                    server, backend = cpu_seconds(pid) - s0, sum(cpu_seconds(b) for b in backends) - b0
                    c0, rb0, rn0 = time.process_time(), cpu_seconds(raw_pid), state.get("raw_pg", 0)
                    limit = await raw_copy(raw, wl, size, duration, state)
                    rn = state["raw_pg"] - rn0
                    client, raw_backend = time.process_time() - c0, cpu_seconds(raw_pid) - rb0
                    print(
                        f"rep {rep + 1}: factorytwin {r['rate']:,.0f} values/s ({server / n * 1e6:.2f} µs server + "
                        f"{backend / n * 1e6:.2f} µs backends per value), raw COPY {limit:,.0f} values/s "
                        f"({client / rn * 1e6:.2f} µs client + {raw_backend / rn * 1e6:.2f} µs backend): "
                        f"{r['rate'] / limit:.2f} of raw COPY; load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
                    ratios.append(r["rate"] / limit)
                await raw.close()
                record(
                    f"PostgreSQL HTTP ingest at {size:,} values per request ÷ raw COPY (median of {reps} stretches)",
                    statistics.median(ratios),
                    "x",
                    goal=">= 0.6",
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=5_040, help="values per request")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per stretch, each side")
    parser.add_argument("--reps", type=int, default=2, help="stretches of factorytwin then raw COPY")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    asyncio.run(main_async(args.size, args.duration, args.reps))


if __name__ == "__main__":
    main()
