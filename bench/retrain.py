"""10 concurrent ``POST /models/train`` against a real ``factorytwin serve`` holding a week of data: answers, server
RSS before/during/after, the training process's peak RSS, and ``/health`` latency while the job runs.

    .venv/bin/python bench/retrain.py [--db week.db] [--requests 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the process helper lives beside its tests

from figures import record
from week_data import write_week

from tests.integration.api.serve_process import serve_process


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid``."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


async def health_ms(client: httpx.AsyncClient) -> float:
    """Latency of one ``GET /health``, ms."""
    start = time.perf_counter()
    (await client.get("/api/v1/health")).raise_for_status()
    return (time.perf_counter() - start) * 1000


async def measure(url: str, token: str, pid: int, requests: int) -> dict[str, Any]:
    """Fire ``requests`` trainings at once (as an admin) and watch the server until the one accepted ends (at most
    10 min)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=headers) as client:
        for _ in range(300):  # the predictor (LightGBM, pandas) loads after the server listens: measure after it
            if (await client.get("/api/v1/health")).json()["sections"]["ml"]["ready"]:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        idle = [await health_ms(client) for _ in range(10)]
        rss_before = rss_mb(pid)
        answers = await asyncio.gather(
            *(client.post("/api/v1/models/train", json={"days": 7}) for _ in range(requests))
        )
        codes = sorted(r.status_code for r in answers)
        job_id = next(r.json()["id"] for r in answers if r.status_code == 202)
        during: list[float] = []
        peak_server = rss_before
        peak_worker = 0.0
        started = time.perf_counter()
        job: dict[str, object] = {}
        while time.perf_counter() - started < 600:
            during.append(await health_ms(client))
            peak_server = max(peak_server, rss_mb(pid))
            for child in children(pid):
                peak_worker = max(peak_worker, rss_mb(child))
            job = (await client.get(f"/api/v1/models/train/{job_id}")).json()
            if job["state"] in {"done", "failed"}:
                break
            await asyncio.sleep(0.2)
        took = time.perf_counter() - started
        await asyncio.sleep(1.0)
        return {
            "codes": codes,
            "job": job,
            "train_s": round(took, 1),
            "rss_before_mb": round(rss_before),
            "rss_peak_server_mb": round(peak_server),
            "rss_after_mb": round(rss_mb(pid)),
            "rss_peak_worker_mb": round(peak_worker),
            "health_idle_ms_median": round(statistics.median(idle), 1),
            "health_during_ms_median": round(statistics.median(during), 1),
            "health_during_ms_max": round(max(during), 1),
            "health_probes": len(during),
        }


def main() -> None:
    """Build (or reuse) the week of data, serve it, measure, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", type=Path, default=None, help="a SQLite file from bench/week_data.py (default: build one)")
    ap.add_argument("--requests", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ft-retrain-") as tmp:
        work = Path(tmp)
        db = work / "factorytwin.db"
        if args.db is not None:
            shutil.copy(args.db, db)
        else:
            asyncio.run(write_week(f"sqlite:///{db}"))
        with serve_process(work) as server:
            figures = asyncio.run(measure(server.url, server.token, server.process.pid, args.requests))
    for key, value in figures.items():
        print(f"{key}: {value}")
    record(
        "retrain x10: API RSS growth",
        float(figures["rss_peak_server_mb"]) - float(figures["rss_before_mb"]),
        "MB",
        goal="flat (was +3.4 GB)",
        better="lower",
    )
    record("retrain x10: worker process peak RSS", float(figures["rss_peak_worker_mb"]), "MB", better="lower")
    record(
        "retrain x10: worst /health during the fit",
        float(figures["health_during_ms_max"]),
        "ms",
        goal="< 1000 ms (was 76.6 s)",
        better="lower",
    )


if __name__ == "__main__":
    main()
