"""The ``factorytwin`` command line: serve, simulate, demo, train, evaluate."""

from __future__ import annotations

import typer

app = typer.Typer(help="factorytwin: a digital twin of a smart factory.", no_args_is_help=True)

# Each area registers its commands below, one line each, from its own module.
