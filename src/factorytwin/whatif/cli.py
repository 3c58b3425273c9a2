"""``factorytwin whatif``: fork a simulated plant, run plans ahead Monte-Carlo style, print the comparison.

The fork is the simulator's own plant (``--layout``, ``--seed``), run for ``--warm-up`` up to now and snapshot;
plan times are instants after now or offsets from it (``PT36H``). ``--plan`` is a JSON file holding one plan, a
list of plans, or ``{"scenarios": [...]}``; each is compared with the baseline (the plant as it goes).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from factorytwin.errors import FactoryTwinError, InvalidInput
from factorytwin.whatif.plan import MAX_HORIZON_H, Plan, PlantFacts, check_plan
from factorytwin.whatif.results import Difference, Spread, WhatIfResult

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|d|w)?\s*$")
_UNIT_H = {"h": 1.0, "d": 24.0, "w": 168.0}


def parse_hours(text: str) -> float:
    """``"14d"``, ``"36h"``, ``"2w"`` or a number of hours -> hours."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise typer.BadParameter(f"{text!r}: give a duration such as 36h, 14d or 2w")
    return float(match.group(1)) * _UNIT_H[match.group(2) or "h"]


def load_plans(path: Path) -> list[Plan]:
    """The plans of a JSON file (one plan, a list, or ``{"scenarios": [...]}``); ``InvalidInput`` naming the item."""
    try:
        data: Any = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FactoryTwinError(f"{path}: cannot read the plan: {exc}") from None
    if isinstance(data, dict) and "scenarios" in data:
        data = data["scenarios"]
    if isinstance(data, dict):
        data = [data]
    try:
        return TypeAdapter(list[Plan]).validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise FactoryTwinError(f"{path}: scenarios.{loc}: {first['msg']}") from None


def _spread(s: Spread) -> str:
    return f"{s.mean:,.1f} [{s.low:,.1f}, {s.high:,.1f}]"


def _diff(d: Difference) -> str:
    return f"{d.mean:+,.1f} [{d.low:+,.1f}, {d.high:+,.1f}]"


def result_table(result: WhatIfResult) -> Table:
    """Plant figures of the baseline and each scenario (mean [80 % of runs]) and each difference (mean [80 % CI])."""
    table = Table(title=f"What-if: {result.runs} runs, {result.horizon_h:g} h ahead (mean [80 % interval])")
    table.add_column("plant", no_wrap=True)
    table.add_column("baseline", justify="right")
    for s in result.scenarios:
        table.add_column(s.name, justify="right")
        table.add_column(f"{s.name} - baseline", justify="right", style="bold")
    rows = [
        ("failures", "failures"),
        ("downtime h", "downtime_h"),
        ("maintenance cost", "maintenance_cost"),
        ("total cost", "total_cost"),
        ("output h", "output_h"),
    ]
    for label, key in rows:
        cells = [_spread(getattr(result.baseline.plant, key))]
        for s, c in zip(result.scenarios, result.comparisons, strict=True):
            cells += [_spread(getattr(s.plant, key)), _diff(getattr(c, key))]
        table.add_row(label, *cells)
    return table


def whatif_command(
    plan: Annotated[Path, typer.Option("--plan", help="JSON: a plan, a list of plans or {'scenarios': [...]}")],
    horizon: Annotated[str, typer.Option(help="how far ahead: 36h, 14d, 2w")] = "14d",
    runs: Annotated[int, typer.Option(min=2, max=10_000, help="Monte-Carlo runs per scenario")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="the plant's and the runs' seed")] = 0,
    workers: Annotated[int, typer.Option(min=0, help="worker processes (0: this process)")] = 2,
    layout: Annotated[Path | None, typer.Option(help="factory layout (default: the built-in one)")] = None,
    warm_up: Annotated[str, typer.Option(help="simulated time before the fork")] = "1h",
    out: Annotated[Path | None, typer.Option(help="write the full results as JSON here")] = None,
) -> None:
    """Simulate the plant ahead under each plan and compare with the baseline, with 80 % intervals."""
    console = Console(stderr=False, soft_wrap=True)
    try:
        horizon_h = parse_hours(horizon)
        if not 0 < horizon_h <= MAX_HORIZON_H:
            raise FactoryTwinError(f"--horizon: at most {MAX_HORIZON_H:g} h")
        plans = load_plans(plan)
        result = _run(plans, horizon_h, runs, seed, workers, layout, parse_hours(warm_up), console)
    except FactoryTwinError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    console.print(result_table(result))
    console.print(f"{result.runs} runs x {len(plans) + 1} plans in {result.wall_s:.1f} s")
    for scenario in result.scenarios:
        for note in scenario.notes:
            console.print(f"{scenario.name}: {note}")
    if out is not None:
        out.write_text(result.model_dump_json(indent=1), "utf-8")
        console.print(f"results written to {out}")


def _run(
    plans: list[Plan],
    horizon_h: float,
    runs: int,
    seed: int,
    workers: int,
    layout_path: Path | None,
    warm_up_h: float,
    console: Console,
) -> WhatIfResult:
    from factorytwin.layout import load_layout
    from factorytwin.progress import progress_bars
    from factorytwin.sim.engine import Engine
    from factorytwin.whatif.fork import fork
    from factorytwin.whatif.run import run_whatif

    factory = load_layout(layout_path)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    engine = Engine(factory, seed=seed, start=now - timedelta(hours=warm_up_h), noise=False)
    if warm_up_h > 0:
        engine.step(60.0, max(1, round(warm_up_h * 60)))
    snapshot = fork(engine)
    facts = PlantFacts(lines={m.id: m.line for m in factory.machines}, start=snapshot.taken_at, horizon_h=horizon_h)
    problems = []
    tables = []
    for k, p in enumerate(plans):
        try:
            tables.append((p.name, check_plan(p, facts)))
        except InvalidInput as exc:
            problems += [f"scenarios.{k}.{'.'.join(str(x) for x in pr.loc)}: {pr.msg}" for pr in exc.problems]
    if problems:
        raise FactoryTwinError("; ".join(problems))
    baseline = check_plan(Plan(name="baseline"), facts)
    with progress_bars(console) as bars:
        bar = bars.fraction(f"simulating {runs} runs x {len(plans) + 1} plans")
        bar(0.0)
        return run_whatif(snapshot, tables, baseline, runs, seed=seed, workers=workers, progress=bar)
