"""The ``factorytwin`` command line: serve, simulate, demo, train, evaluate, predict, users, tokens, devices, layout."""

from __future__ import annotations

import importlib

import typer
from pydantic import ValidationError
from typer import _click as click
from typer.core import DEFAULT_MARKUP_MODE, TyperGroup
from typer.main import get_command_from_info
from typer.models import CommandInfo

from factorytwin.api.serve import serve_command
from factorytwin.auth.cli import devices_app, tokens_app, users_app
from factorytwin.config import Settings, settings_problem
from factorytwin.plant.cli import layout_app

# Commands whose modules import the simulator and the ML stack (numpy, scipy, pandas, LightGBM: several seconds):
# they are imported only when named, so that `factorytwin serve` starts (and answers /health) in about a second.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("factorytwin.ml.cli", "train_command"),
    "evaluate": ("factorytwin.ml.cli", "evaluate_command"),
    "predict": ("factorytwin.ml.cli", "predict_command"),
    "simulate": ("factorytwin.sim.cli", "simulate"),
    "demo": ("factorytwin.demo", "demo_command"),
    "mqtt-config": ("factorytwin.auth.cli", "mqtt_config_command"),
    "whatif": ("factorytwin.whatif.cli", "whatif_command"),
}


class _LazyGroup(TyperGroup):
    """A command group that imports a command's module the first time the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in LAZY_COMMANDS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, attr = LAZY_COMMANDS[cmd_name]
            callback = getattr(importlib.import_module(module), attr)
            self.commands[cmd_name] = get_command_from_info(
                CommandInfo(name=cmd_name, callback=callback),
                pretty_exceptions_short=True,
                rich_markup_mode=DEFAULT_MARKUP_MODE,
            )
        return super().get_command(ctx, cmd_name)


app = typer.Typer(help="factorytwin: a digital twin of a smart factory.", no_args_is_help=True, cls=_LazyGroup)


@app.callback()
def main(ctx: typer.Context) -> None:
    """factorytwin: a digital twin of a smart factory (a callback keeps `factorytwin <command>` a group)."""
    # The settings from the environment, built once here and handed to the commands that take them as they are
    # (train, evaluate); serve and demo build theirs with their command-line options on top.
    try:
        ctx.obj = Settings()
    except ValidationError as exc:
        typer.echo(f"error: {settings_problem(exc)}", err=True)
        raise typer.Exit(2) from None


# Each area registers its commands: `serve` here, the others in LAZY_COMMANDS (module, function), one line each.
app.command("serve")(serve_command)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(devices_app, name="devices")
app.add_typer(layout_app, name="layout")
