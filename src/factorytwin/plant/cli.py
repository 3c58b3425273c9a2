"""``factorytwin layout export|import``: the plant's layout as a YAML (or JSON) file, read from and applied to a
running server over its REST API, so every open dashboard sees the change at once and each one is in the event
log and the audit trail.

``export`` writes the plant as it is now (floor, lines, machines with profiles, band overrides and metadata).
``import`` checks the whole file first, then creates the machines that are new and updates the ones that differ;
with ``--prune`` it also deletes the machines the file does not have. Nothing is applied when the file is broken;
a refused machine (unknown profile, band outside its range) is reported by field and the rest go on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml

from factorytwin.domain import FactoryLayout, Machine
from factorytwin.errors import LayoutError
from factorytwin.layout import load_layout

layout_app = typer.Typer(help="Export the plant's layout to a file, or apply one to a running server.")

UrlOption = Annotated[str, typer.Option(envvar="FT_URL", help="The server, e.g. http://localhost:8000.")]
TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="FT_TOKEN",
        help="An API token (viewer to export, engineer to import). Prefer FT_TOKEN: an option shows in the process "
        "list.",
        show_default=False,
    ),
]


def _client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url.rstrip("/") + "/api/v1/", headers=headers, timeout=30.0)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _problem(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(detail, list) and detail:
        first = detail[0]
        where = ".".join(str(p) for p in first.get("loc", []) if p != "body")
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    return str(detail or f"HTTP {response.status_code}")


def _get(client: httpx.Client, path: str) -> Any:
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {client.base_url}: {exc}") from None
    if response.status_code != 200:
        raise _fail(f"GET {path}: {_problem(response)}")
    return response.json()


def layout_document(layout: FactoryLayout) -> dict[str, Any]:
    """A layout as the plain data of a layout file (defaults left out, so the file stays short)."""
    doc = layout.model_dump(mode="json", exclude_defaults=True)
    doc["machines"] = [m.model_dump(mode="json", exclude_defaults=True) for m in layout.machines]
    return doc


@layout_app.command("export")
def export_command(
    url: UrlOption = "http://localhost:8000",
    token: TokenOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: standard output).")] = None,
) -> None:
    """Write the running plant's layout as YAML (to --out or standard output)."""
    with _client(url, token) as client:
        raw = _get(client, "layout")
    plant = FactoryLayout.model_validate({k: raw[k] for k in FactoryLayout.model_fields if k in raw})  # not the view's
    text = yaml.safe_dump(layout_document(plant), sort_keys=False, allow_unicode=True)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote the layout of {len(raw.get('machines', []))} machines to {out}", err=True)


@layout_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="Layout file (YAML or JSON).")],
    url: UrlOption = "http://localhost:8000",
    token: TokenOption = None,
    prune: Annotated[bool, typer.Option("--prune", help="Also delete the machines the file does not have.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")] = False,
) -> None:
    """Apply a layout file to the running plant: create new machines, update changed ones (and --prune)."""
    try:
        wanted = load_layout(path)
    except LayoutError as exc:
        raise _fail(str(exc)) from None
    with _client(url, token) as client:
        current = {m["id"]: Machine.model_validate(m) for m in _get(client, "layout")["machines"]}
        plan = _plan(wanted.machines, current, prune)
        failed = 0
        for op, machine_id, machine in plan:
            if dry_run:
                typer.echo(f"would {op} {machine_id}")
                continue
            response = _apply(client, op, machine_id, machine)
            if response.status_code >= 400:
                failed += 1
                typer.echo(f"{op} {machine_id}: refused: {_problem(response)}", err=True)
            else:
                typer.echo(f"{op}d {machine_id}" if op != "create" else f"created {machine_id}")
    done = "would change" if dry_run else "changed"
    typer.echo(f"{done} {len(plan) - failed} machines, {failed} refused, {len(wanted.machines)} in the file", err=True)
    if failed:
        raise typer.Exit(1)


def _plan(wanted: list[Machine], current: dict[str, Machine], prune: bool) -> list[tuple[str, str, Machine | None]]:
    plan: list[tuple[str, str, Machine | None]] = []
    for machine in wanted:
        if machine.id not in current:
            plan.append(("create", machine.id, machine))
        elif current[machine.id] != machine:
            plan.append(("update", machine.id, machine))
    if prune:
        keep = {m.id for m in wanted}
        plan.extend(("delete", mid, None) for mid in sorted(current) if mid not in keep)
    return plan


def _apply(client: httpx.Client, op: str, machine_id: str, machine: Machine | None) -> httpx.Response:
    body = machine.model_dump(mode="json") if machine is not None else None
    try:
        if op == "create":
            return client.post("machines", json=body)
        if op == "update":
            return client.put(f"machines/{machine_id}", json=body)
        return client.delete(f"machines/{machine_id}")
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {client.base_url}: {exc}") from None
