"""``factorytwin users|tokens|devices``: secrets shown once, one red line and exit 1 for every problem."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from factorytwin.auth.cli import parse_expiry
from factorytwin.cli import app

runner = CliRunner()


def run(url: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    """Exit code and all output of ``factorytwin <args> --database-url url``."""
    result = runner.invoke(app, [*args, "--database-url", url], input=stdin)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_users_are_added_listed_changed_and_removed(sqlite_url: str) -> None:
    assert (
        run(sqlite_url, "users", "add", "zoe", "--role", "admin", "--password-stdin", stdin="a long password\n")[0] == 0
    )
    code, out = run(sqlite_url, "users", "add", "amir", "--generate")
    assert code == 0
    assert re.search(r"password \(shown once\): \S{20}", out)
    code, out = run(sqlite_url, "users", "list")
    assert code == 0
    assert re.search(r"amir\s*│\s*viewer", out)
    assert re.search(r"zoe\s*│\s*admin", out)
    assert run(sqlite_url, "users", "role", "amir", "operator")[0] == 0
    assert re.search(r"amir\s*│\s*operator", run(sqlite_url, "users", "list")[1])
    assert run(sqlite_url, "users", "passwd", "amir", "--password-stdin", stdin="another long one\n")[0] == 0
    assert run(sqlite_url, "users", "remove", "amir")[0] == 0
    assert "amir" not in run(sqlite_url, "users", "list")[1]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("users", "add", "bob", "--password-stdin"), "short\n", "password: use at least 10 characters"),
        (("users", "add", "b b", "--generate"), None, "username: use 1-64 letters, digits and ._@-"),
        (("tokens", "create", "x y"), None, "name: use 1-64 letters, digits and ._@-"),
        (("users", "add", "x", "--role", "root", "--generate"), None, "'root' is not one of"),
        (("users", "remove", "nobody"), None, "no user 'nobody'"),
        (("users", "passwd", "nobody", "--password-stdin"), "a long password\n", "no user 'nobody'"),
        (("tokens", "revoke", "nope"), None, "no valid token 'nope'"),
        (("tokens", "create", "t", "--expires", "soon"), None, "give a duration such as 12h"),
        (("devices", "key", "no-such-machine"), None, "no machine 'no-such-machine' in the factory layout"),
    ],
)
def test_a_problem_is_one_line_without_a_traceback(
    sqlite_url: str, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    code, out = run(sqlite_url, *args, stdin=stdin)
    assert code != 0
    if "Usage:" not in out:  # typer's own usage errors are its usual box; ours are one line (rich may wrap it)
        assert out.count("\n") <= 2
    assert message in out.replace("\n", " ")
    assert "Traceback" not in out


def test_a_taken_name_is_refused(sqlite_url: str) -> None:
    assert run(sqlite_url, "users", "add", "zoe", "--generate")[0] == 0
    code, out = run(sqlite_url, "users", "add", "zoe", "--generate")
    assert (code, "user 'zoe' already exists" in out) == (1, True)


def test_a_token_secret_is_printed_once_and_listed_never(sqlite_url: str) -> None:
    code, out = run(sqlite_url, "tokens", "create", "grafana", "--role", "viewer", "--expires", "30d")
    assert code == 0
    [secret] = re.findall(r"ftt_[A-Za-z0-9_-]{43}", out)
    code, listed = run(sqlite_url, "tokens", "list")
    assert code == 0
    assert "grafana" in listed
    assert "valid" in listed
    assert secret not in listed
    assert run(sqlite_url, "tokens", "create", "grafana")[0] == 1
    assert run(sqlite_url, "tokens", "revoke", "grafana")[0] == 0
    assert "revoked" in run(sqlite_url, "tokens", "list")[1]


def test_device_keys_are_issued_rotated_listed_and_revoked(sqlite_url: str) -> None:
    first = run(sqlite_url, "devices", "key", "mill-01")[1]
    second = run(sqlite_url, "devices", "key", "mill-01")[1]
    assert re.search(r"ftd_\S{43}", first)
    assert re.search(r"ftd_\S{43}", second)
    listed = run(sqlite_url, "devices", "list")[1]
    assert listed.count("mill-01") == 2
    assert "UTC" in listed
    code, out = run(sqlite_url, "devices", "revoke", "mill-01")
    assert (code, "revoked 2 key(s)" in out) == (0, True)


def test_an_unreachable_database_is_one_line(tmp_path: object) -> None:
    code, out = run("postgresql://nobody@127.0.0.1:1/none", "users", "list")
    assert code == 1
    assert out.startswith("error:")
    assert "Traceback" not in out


def test_expiry_durations() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_expiry("12h", now) == now + timedelta(hours=12)
    assert parse_expiry("30d", now) == now + timedelta(days=30)
    assert parse_expiry("2w", now) == now + timedelta(days=14)
    assert parse_expiry("never", now) is None
    with pytest.raises(ValueError, match="duration"):
        parse_expiry("0h", now)
