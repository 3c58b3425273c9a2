"""Failure statistics of a simulated run: failures per mode per machine kind, as a rich table and a plot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
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
    """A stacked bar chart of failures per kind, one colour per mode, saved as PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(machines)
    modes = [m.value for m in FailureMode if any(m.value in per for per in counts.values())]
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
    bottom = [0.0] * len(kinds)
    cmap = plt.get_cmap("tab20")
    for j, mode in enumerate(modes):
        heights = [float(counts.get(k, {}).get(mode, 0)) for k in kinds]
        ax.bar(kinds, heights, bottom=bottom, label=mode.replace("_", " "), color=cmap(j))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for x, (kind, total) in enumerate(zip(kinds, bottom, strict=True)):
        ax.text(x, total, f"{int(total)}\n({machines[kind]} m.)", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("failures")
    ax.set_title(f"Simulated failures per machine kind and mode, {days:g} days of the default factory")
    ax.set_ylim(0, max([*bottom, 1.0]) * 1.18)
    ax.legend(ncols=2, fontsize=8, loc="upper right")
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
