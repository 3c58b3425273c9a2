"""A database URL is printed and logged without its password."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from factorytwin.api import serve
from factorytwin.cli import app as cli
from factorytwin.config import Settings
from factorytwin.store import open_store, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://postgres:s3cret@127.0.0.1:5432/ft", "postgresql://postgres:***@127.0.0.1:5432/ft"),
        ("postgres://app:p@ss:w0rd@db/ft", "postgres://app:***@db/ft"),
        ("postgresql://app:@db/ft", "postgresql://app:***@db/ft"),
        ("postgresql://db/ft?user=app&password=hunter2&sslmode=require",
         "postgresql://db/ft?user=app&password=***&sslmode=require"),
        ("postgresql://app@db:5432/ft", "postgresql://app@db:5432/ft"),
        ("sqlite:///var/factorytwin.db", "sqlite:///var/factorytwin.db"),
        ("sqlite:////abs/user:name@x.db", "sqlite:////abs/user:name@x.db"),
    ],
)  # fmt: skip
def test_the_password_of_a_database_url_is_never_shown(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_an_unusable_url_is_refused_without_its_password() -> None:
    with pytest.raises(ValueError, match="mysql://root:\\*\\*\\*@db/ft") as caught:
        open_store("mysql://root:hunter2@db/ft")
    assert "hunter2" not in str(caught.value)


def test_serve_prints_the_store_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Settings] = []

    def run_server(settings: Settings, sock: socket.socket) -> None:
        sock.close()
        started.append(settings)

    async def reachable(settings: Settings) -> None:  # there is no such database: only the printing is tested
        return None

    monkeypatch.setattr(serve, "run_server", run_server)
    monkeypatch.setattr(serve, "check_connections", reachable)
    url = "postgresql://postgres:hunter2@127.0.0.1:5432/ft"
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert started[0].database_url == url  # the server itself still gets the real URL
    # what the server prints once its port is bound (tests/integration/api/test_startup.py sees it printed)
    line = serve.announcement("127.0.0.1", 8000, url)
    assert "postgresql://postgres:***@127.0.0.1:5432/ft" in line
    assert "hunter2" not in line
