"""The ``factorytwin`` command line: serve, simulate, demo, train, evaluate, predict, users, tokens, devices."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from factorytwin.api.serve import serve_command
from factorytwin.auth.cli import devices_app, tokens_app, users_app
from factorytwin.config import Settings
from factorytwin.demo import demo_command
from factorytwin.ml.cli import evaluate_command, predict_command, train_command
from factorytwin.sim.cli import simulate

app = typer.Typer(help="factorytwin: a digital twin of a smart factory.", no_args_is_help=True)


@app.callback()
def main(ctx: typer.Context) -> None:
    """factorytwin: a digital twin of a smart factory (a callback keeps `factorytwin <command>` a group)."""
    # The settings from the environment, built once here and handed to the commands that take them as they are
    # (train, evaluate); serve and demo build theirs with their command-line options on top.
    try:
        ctx.obj = Settings()
    except ValidationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


# Each area registers its commands below, one line each, from its own module.
app.command("serve")(serve_command)
app.command("train")(train_command)
app.command("evaluate")(evaluate_command)
app.command("predict")(predict_command)
app.command("simulate")(simulate)
app.command("demo")(demo_command)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(devices_app, name="devices")
