"""Failure statistics of a simulated run: failures per mode per machine kind, as a rich table and a plot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from rich.table import Table

from factorytwin.domain import FailureMode, MachineKind
from factorytwin.sim.state import SimEvent

FailureCounts = dict[str, dict[str, int]]  # kind -> mode -> failures


def failure_counts(events: Iterable[SimEvent]) -> FailureCounts:
    """Failures per mode per machine kind (kinds and modes in the domain's order, only those that occurred)."""
    counts = Counter((e.kind, e.mode or "unknown") for e in events if e.event == "failure")
    kinds = [k.value for k in MachineKind if any(kind == k.value for kind, _ in counts)]
    modes = [m.value for m in FailureMode if any(mode == m.value for _, mode in counts)]
    return {kind: {mode: counts[(kind, mode)] for mode in modes if counts[(kind, mode)]} for kind in kinds}


def machines_per_kind(kinds: Iterable[MachineKind]) -> dict[str, int]:
    """How many machines of each kind a layout has."""
    return dict(Counter(k.value for k in kinds))


def failure_table(counts: FailureCounts, machines: dict[str, int], days: float) -> Table:
    """A rich table: one row per kind with its failures by mode, the total and failures per machine-year."""
    table = Table(title=f"Failures in {days:g} simulated days, per mode and machine kind")
    table.add_column("kind", no_wrap=True)
    table.add_column("machines", justify="right")
    table.add_column("failures by mode")
    table.add_column("total", justify="right", style="bold")
    table.add_column("per machine-year", justify="right")
    grand = 0
    for kind, n in machines.items():
        per = counts.get(kind, {})
        total = sum(per.values())
        grand += total
        rate = total / n / (days / 365.0) if n and days else 0.0
        by_mode = ", ".join(f"{mode} {count}" for mode, count in per.items()) or "-"
        table.add_row(kind, str(n), by_mode, str(total), f"{rate:.1f}")
    table.add_row("all", str(sum(machines.values())), "", str(grand), "", style="bold")
    return table


def plot_failures(counts: FailureCounts, machines: dict[str, int], days: float, path: Path) -> None:
    """Failures per kind and mode as an annotated heat map, beside failures per machine-year, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    kinds = list(machines)
    modes = [m.value for m in FailureMode if any(m.value in per for per in counts.values())]
    grid = np.array([[counts.get(k, {}).get(m, 0) for m in modes] for k in kinds], dtype=float)
    fig, (ax, bx) = plt.subplots(
        1, 2, figsize=(12, 4.8), dpi=110, gridspec_kw={"width_ratios": [3.2, 1.0]}, layout="constrained"
    )
    ax.imshow(np.log1p(grid), cmap="Oranges", aspect="auto")
    for r in range(len(kinds)):
        for c in range(len(modes)):
            if grid[r, c]:
                dark = np.log1p(grid[r, c]) > 0.6 * np.log1p(grid.max())
                ax.text(c, r, f"{int(grid[r, c])}", ha="center", va="center", color="white" if dark else "black")
    ax.set_xticks(range(len(modes)), [m.replace("_", " ") for m in modes], rotation=35, ha="right")
    ax.set_yticks(range(len(kinds)), [f"{k} ({machines[k]})" for k in kinds])
    ax.set_title(f"Failures per mode, {days:g} simulated days (machines per kind in brackets)")
    years = days / 365.0
    rates = [grid[r].sum() / machines[k] / years if years else 0.0 for r, k in enumerate(kinds)]
    bx.barh(range(len(kinds)), rates, color="tab:red")
    bx.set_yticks(range(len(kinds)), [])
    bx.invert_yaxis()
    for r, rate in enumerate(rates):
        bx.text(rate, r, f" {rate:.0f}", va="center")
    bx.set_xlim(0, max([*rates, 1.0]) * 1.25)
    bx.set_title("failures per machine-year")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_run_to_failure(
    readings: Path, machine_id: str, sensors: list[str], end: datetime, days: float, path: Path
) -> None:
    """``sensors`` of ``machine_id`` over the ``days`` before ``end`` (a failure), from a fast-mode readings file.

    Reads only that machine's rows (parquet filter), so it works on a year's file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pyarrow.parquet as pq

    start = end - timedelta(days=days)
    table = pq.read_table(
        readings,
        columns=["ts", "status", *sensors],
        filters=[("machine_id", "=", machine_id), ("ts", ">=", start), ("ts", "<=", end + timedelta(hours=6))],
    )
    df = table.to_pandas()
    fig, axes = plt.subplots(len(sensors), 1, figsize=(10, 2.2 * len(sensors)), dpi=110, sharex=True)
    for ax, key in zip(list(axes), sensors, strict=True):
        running = df["status"] == "running"
        ax.plot(df["ts"], df[key].where(running), lw=0.6, color="tab:blue")  # gaps where it was not running
        ax.axvline(end, color="tab:red", lw=1.2)
        ax.set_ylabel(key.replace("_", " "))
    axes[0].set_title(f"{machine_id}: the {days:g} days before its failure (red line); samples while running")
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
