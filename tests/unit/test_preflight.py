"""Start-up checks of ``serve`` and ``demo``: a store or broker that cannot be used is one line (preflight.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorytwin.config import Settings
from factorytwin.preflight import StartupProblem, check_broker, check_connections, check_store, one_line


async def test_a_store_that_opens_passes_and_one_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    await check_store(f"sqlite:///{tmp_path / 'ok.db'}")
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(StartupProblem) as caught:
        await check_store(f"sqlite:///{tmp_path / 'a-file' / 'x.db'}")
    message = str(caught.value)
    assert message.startswith(f"cannot open the database sqlite:///{tmp_path}/a-file/x.db: ")
    assert "\n" not in message


async def test_an_unusable_url_names_what_to_use() -> None:
    with pytest.raises(StartupProblem, match=r"sqlite:///path/to/file\.db or postgresql://"):
        await check_store("mysql://db/x")
    with pytest.raises(StartupProblem, match="mqtt_url: scheme must be mqtt://"):
        await check_broker(Settings(mqtt_url="http://broker:1883"))
    with pytest.raises(StartupProblem, match="CA"):  # the TLS files are the server's own, checked the same way
        await check_broker(Settings(mqtt_url="mqtts://broker", mqtt_ca_file=Path("/nonexistent/ca.pem")))


async def test_without_mqtt_only_the_store_is_checked(tmp_path: Path) -> None:
    await check_connections(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", mqtt_url=None))


def test_one_line_is_the_first_line_or_the_type() -> None:
    assert one_line(ValueError("first\nsecond")) == "first"
    assert one_line(ConnectionRefusedError()) == "ConnectionRefusedError"
