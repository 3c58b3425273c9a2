"""``factorytwin users|tokens|devices``: manage users, API tokens and device ingest keys from the shell.

They work on the database of ``FT_DATABASE_URL`` (or ``--database-url``), the same one ``serve`` uses, so they can
run beside a running server. Secrets (generated passwords, tokens, device keys) are printed once, to stdout, and
never stored. A problem ends with one red line and exit code 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from factorytwin.auth.models import PrincipalKind
from factorytwin.auth.roles import Role
from factorytwin.auth.service import AuthService, Context
from factorytwin.config import Settings
from factorytwin.errors import FactoryTwinError
from factorytwin.layout import load_layout
from factorytwin.store import open_store
from factorytwin.store.auth import auth_store_for

T = TypeVar("T")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long

users_app = typer.Typer(help="Manage dashboard users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage bearer API tokens for scripts and integrations.", no_args_is_help=True)
devices_app = typer.Typer(help="Manage the ingest keys of machines (devices).", no_args_is_help=True)

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Database (default: FT_DATABASE_URL or sqlite:///var/...).")
]
_DURATION = re.compile(r"\s*(\d+)\s*(h|d|w)\s*")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}


def parse_expiry(text: str, now: datetime) -> datetime | None:
    """The expiry time of ``12h``, ``30d``, ``8w`` from ``now``, or None for ``never``."""
    if text.strip().lower() == "never":
        return None
    match = _DURATION.fullmatch(text.lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--expires {text!r}: give a duration such as 12h, 30d, 8w, or 'never'")
    return now + timedelta(hours=int(match.group(1)) * _UNIT_HOURS[match.group(2)])


def _settings() -> Settings:
    """The settings the ``factorytwin`` callback built from the environment (or a fresh read when run alone)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj if isinstance(obj, Settings) else Settings()


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


def _actor() -> Context:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        name = "unknown"
    return Context(f"cli:{name}", PrincipalKind.CLI, "cli")


def _run(database_url: str | None, work: Callable[[AuthService], Awaitable[T]]) -> T:
    """Open the store, run ``work`` with an ``AuthService`` over it, close; problems become one line."""

    async def main() -> T:
        store = open_store(database_url or _settings().database_url)
        await store.open()
        try:
            return await work(AuthService(auth_store_for(store)))
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except ValidationError as exc:  # a name that breaks the rules: one line per field, not pydantic's block
        shown = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
        raise _fail(shown) from None
    except (FactoryTwinError, ValueError, OSError) as exc:
        raise _fail(str(exc) or type(exc).__name__) from None


def _read_password(from_stdin: bool, username: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt(f"password for {username}", hide_input=True, confirmation_prompt=True)
    return password


def _when(ts: datetime | None) -> str:
    return "-" if ts is None else ts.strftime("%Y-%m-%d %H:%M UTC")


# --- users ----------------------------------------------------------------------------------------------------
@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits and ._@-).")],
    role: Annotated[Role, typer.Option(help="viewer, operator, engineer or admin.")] = Role.VIEWER,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    generate: Annotated[bool, typer.Option("--generate", help="Generate a password and print it once.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Add a user with a role; the password is prompted for (or read from stdin, or generated)."""
    password = secrets.token_urlsafe(15) if generate else _read_password(password_stdin, username)
    user = _run(database_url, lambda s: s.add_user(username, role, password, _actor()))
    console.print(f"added user [bold]{escape(user.username)}[/] ({user.role})")
    if generate:
        console.print(f"password (shown once): {password}", highlight=False)


@users_app.command("list")
def users_list(database_url: DatabaseOpt = None) -> None:
    """List the users and their roles."""
    users = _run(database_url, lambda s: s.users())
    table = Table("user", "role", "created", "changed")
    for u in users:
        table.add_row(escape(u.username), u.role, _when(u.created_at), _when(u.updated_at))
    console.print(table if users else "no users yet: add one with `factorytwin users add NAME --role admin`")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="The user whose password changes.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Set a user's password; their open sessions end."""
    password = _read_password(password_stdin, username)
    _run(database_url, lambda s: s.set_password(username, password, _actor()))
    console.print(f"password of [bold]{escape(username)}[/] changed")


@users_app.command("role")
def users_role(
    username: Annotated[str, typer.Argument(help="The user whose role changes.")],
    role: Annotated[Role, typer.Argument(help="viewer, operator, engineer or admin.")],
    database_url: DatabaseOpt = None,
) -> None:
    """Give a user another role (takes effect at their next request)."""
    _run(database_url, lambda s: s.set_role(username, role, _actor()))
    console.print(f"[bold]{escape(username)}[/] is now {role}")


@users_app.command("remove")
def users_remove(
    username: Annotated[str, typer.Argument(help="The user to remove.")], database_url: DatabaseOpt = None
) -> None:
    """Remove a user and end their sessions."""
    _run(database_url, lambda s: s.remove_user(username, _actor()))
    console.print(f"removed user [bold]{escape(username)}[/]")


# --- tokens ---------------------------------------------------------------------------------------------------
@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="A name saying what uses the token (e.g. grafana).")],
    role: Annotated[Role, typer.Option(help="viewer, operator, engineer or admin.")] = Role.VIEWER,
    expires: Annotated[str, typer.Option(help="Lifetime: 12h, 30d, 8w, or 'never'.")] = "90d",
    database_url: DatabaseOpt = None,
) -> None:
    """Create a bearer token; its secret is printed once (send it as `Authorization: Bearer <secret>`)."""

    async def work(s: AuthService) -> tuple[str, datetime | None]:
        secret, token = await s.create_token(name, role, _actor(), expires_at=parse_expiry(expires, s.now()))
        return secret, token.expires_at

    secret, expires_at = _run(database_url, work)
    err.print(f"created token [bold]{escape(name)}[/] ({role}), expires {_when(expires_at)}; the secret (shown once):")
    console.print(secret, highlight=False)


@tokens_app.command("list")
def tokens_list(database_url: DatabaseOpt = None) -> None:
    """List the tokens (never their secrets)."""

    async def work(s: AuthService) -> Table | str:
        tokens = await s.tokens()
        if not tokens:
            return "no tokens yet: create one with `factorytwin tokens create NAME --role viewer`"
        table = Table("token", "role", "state", "created by", "created", "expires", "last used")
        now = s.now()
        for t in tokens:
            state = "revoked" if t.revoked_at else ("valid" if t.valid_at(now) else "expired")
            table.add_row(
                escape(t.name),
                t.role,
                state,
                escape(t.created_by),
                _when(t.created_at),
                _when(t.expires_at),
                _when(t.last_used_at),
            )
        return table

    console.print(_run(database_url, work))


@tokens_app.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="The token to revoke.")], database_url: DatabaseOpt = None
) -> None:
    """Revoke a token at once."""
    _run(database_url, lambda s: s.revoke_token(name, _actor()))
    console.print(f"revoked token [bold]{escape(name)}[/]")


# --- devices --------------------------------------------------------------------------------------------------
@devices_app.command("key")
def devices_key(
    machine_id: Annotated[str, typer.Argument(help="The machine the key may write telemetry for.")],
    database_url: DatabaseOpt = None,
) -> None:
    """Issue a new ingest key for a machine; its previous keys stay valid for the grace period (1 h), then expire."""
    settings = _settings()
    known = {m.id for m in load_layout(settings.layout_path).machines}

    async def work(s: AuthService) -> str:
        if machine_id not in known:
            raise ValueError(f"no machine {machine_id!r} in the factory layout")
        secret, _ = await s.issue_device_key(machine_id, _actor())
        return secret

    secret = _run(database_url or settings.database_url, work)
    err.print(f"new ingest key of [bold]{escape(machine_id)}[/] (shown once):")
    console.print(secret, highlight=False)


@devices_app.command("revoke")
def devices_revoke(
    machine_id: Annotated[str, typer.Argument(help="The machine whose keys are revoked.")],
    database_url: DatabaseOpt = None,
) -> None:
    """Revoke every ingest key of a machine at once (a lost or stolen device)."""
    count = _run(database_url, lambda s: s.revoke_device_keys(machine_id, _actor()))
    console.print(f"revoked {count} key(s) of [bold]{escape(machine_id)}[/]")


@devices_app.command("list")
def devices_list(database_url: DatabaseOpt = None) -> None:
    """List the ingest keys (their public ids, never the secrets)."""

    async def work(s: AuthService) -> Table:
        table = Table("machine", "key id", "state", "created", "expires")
        now = s.now()
        for k in await s.device_keys():
            state = "revoked" if k.revoked_at else ("valid" if k.valid_at(now) else "expired")
            table.add_row(escape(k.machine_id), k.key_id, state, _when(k.created_at), _when(k.expires_at))
        return table

    console.print(_run(database_url, work))


__all__ = ["devices_app", "tokens_app", "users_app"]


def mqtt_config_command(
    out: Annotated[Path, typer.Option(help="Directory for passwd, acl, mosquitto.conf and credentials.json.")] = Path(
        "var/mosquitto"
    ),
    layout: Annotated[Path | None, typer.Option(help="Factory layout YAML/JSON (default: the built-in one).")] = None,
    prefix: Annotated[str, typer.Option(help="Topic prefix (FT_MQTT_TOPIC_PREFIX of the server).")] = "ft",
    port: Annotated[int, typer.Option(help="Listener port written into mosquitto.conf.")] = 1883,
    bind: Annotated[str, typer.Option(help="Listener address written into mosquitto.conf.")] = "127.0.0.1",
    rotate: Annotated[bool, typer.Option("--rotate", help="New passwords for everyone (default: keep them).")] = False,
) -> None:
    """Write a locked-down Mosquitto configuration: one account per machine (its own topics only), one for the
    simulator gateway and one for the server (docs/SECURITY.md)."""
    from factorytwin.auth.mosquitto import SIMULATOR_GATEWAY, BrokerPlan, Gateway, write_broker_config

    try:
        machines = [m.id for m in load_layout(layout).machines]
        plan = BrokerPlan(
            prefix=prefix, devices=machines, gateways=[Gateway(name=SIMULATOR_GATEWAY, machines=machines)]
        )
        passwords = write_broker_config(plan, out, rotate=rotate, port=port, bind=bind)
    except (ValidationError, ValueError, FactoryTwinError, OSError) as exc:
        raise _fail(str(exc)) from None
    server = plan.server_user
    console.print(f"wrote {out}/passwd, acl and mosquitto.conf for {len(passwords)} broker users")
    console.print(f"plain passwords (keep them secret): {out}/credentials.json (readable by you only)", soft_wrap=True)
    console.print(f"start the broker: mosquitto -c {out}/mosquitto.conf", soft_wrap=True)
    console.print(f"server: FT_MQTT_URL=mqtt://{server}:<password of {server}>@{bind}:{port}", soft_wrap=True)
