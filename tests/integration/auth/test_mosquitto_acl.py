"""The broker configuration of ``factorytwin mqtt-config`` in a private, real Mosquitto: the broker itself refuses
anonymous and wrong logins, and a device publishing another machine's topic; the server ingests with its own
account (issue 11)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from typer.testing import CliRunner

from factorytwin.auth.mosquitto import BrokerPlan, Gateway, hash_password, write_broker_config
from factorytwin.cli import app as cli
from factorytwin.config import Settings
from tests.integration.twin.conftest import Mosquitto, free_port, serve_app, wait_until

pytestmark = pytest.mark.integration

MILL = {
    "air_temp": 300.0,
    "process_temp": 310.0,
    "spindle_speed": 1500.0,
    "torque": 40.0,
    "power": 6.0,
    "tool_wear": 50.0,
    "vibration": 2.0,
    "motor_current": 20.0,
}


class LockedBroker(Mosquitto):
    """A private Mosquitto running the configuration written by ``write_broker_config``."""

    def __init__(self, workdir: Path, plan: BrokerPlan) -> None:
        super().__init__(workdir)
        self.passwords = write_broker_config(plan, workdir / "conf", port=self.port)
        conf = (workdir / "conf" / "mosquitto.conf").read_text()
        self.config.write_text(conf + ("user root\n" if os.geteuid() == 0 else ""))

    def url_for(self, user: str) -> str:
        return f"mqtt://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LockedBroker]:
    (tmp_path / "broker").mkdir()
    plan = BrokerPlan(devices=["mill-01", "mill-02"], gateways=[Gateway(name="edge-1", machines=["mill-02"])])
    locked = LockedBroker(tmp_path / "broker", plan)
    locked.start()
    try:
        yield locked
    finally:
        locked.stop()


def client(broker: LockedBroker, user: str | None, password: str | None = None) -> aiomqtt.Client:
    if user is not None and password is None:
        password = broker.passwords[user]
    return aiomqtt.Client("127.0.0.1", broker.port, username=user, password=password, identifier=f"t-{user}")


def reading(machine_id: str, **values: float) -> str:
    return json.dumps({"machine_id": machine_id, "ts": datetime.now(UTC).isoformat(), "values": {**MILL, **values}})


def test_the_hash_is_mosquittos_own_format(tmp_path: Path) -> None:
    # mosquitto_passwd checks a password file it did not write: same $7$ layout, same PBKDF2-SHA512.
    (tmp_path / "pw").write_text(f"ada:{hash_password('s3cret', salt=b'0123456789ab')}\n")
    assert hash_password("s3cret", salt=b"0123456789ab").startswith("$7$101$MDEyMzQ1Njc4OWFi$")
    subprocess.run(["mosquitto_passwd", "-b", str(tmp_path / "pw"), "bob", "other"], check=True)
    lines = (tmp_path / "pw").read_text().splitlines()
    assert [line.split(":")[0] for line in lines] == ["ada", "bob"]
    assert all(line.split(":", 1)[1].startswith("$7$101$") for line in lines)


async def test_anonymous_and_wrong_passwords_are_refused_by_the_broker(broker: LockedBroker) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with client(broker, None):
            pass
    with pytest.raises(aiomqtt.MqttError):
        async with client(broker, "mill-01", "not the password"):
            pass
    async with client(broker, "mill-01"):
        pass  # the right one gets in


async def test_a_device_may_publish_and_read_its_own_topics_only(broker: LockedBroker) -> None:
    seen: list[tuple[str, Any]] = []
    async with client(broker, "ft-server") as server:
        await server.subscribe("ft/+/telemetry", qos=1)

        async def collect() -> None:
            async for message in server.messages:
                seen.append((str(message.topic), json.loads(bytes(message.payload))))

        collector = asyncio.create_task(collect())
        try:
            async with client(broker, "mill-01") as device:
                await device.publish("ft/mill-02/telemetry", reading("mill-02", torque=1.0), qos=1)  # forged
                await device.publish("ft/mill-01/telemetry", reading("mill-01", torque=2.0), qos=1)
            async with client(broker, "edge-1") as gateway:
                await gateway.publish("ft/mill-02/telemetry", reading("mill-02", torque=3.0), qos=1)  # its machine
                await gateway.publish("ft/mill-01/telemetry", reading("mill-01", torque=4.0), qos=1)  # not its
            async with client(broker, "mill-01") as device:  # a last, allowed message: the rest came before it
                await device.publish("ft/mill-01/telemetry", reading("mill-01", torque=9.0), qos=1)

            async def marker_seen() -> bool:
                return any(body["values"]["torque"] == 9.0 for _, body in seen)

            await wait_until(marker_seen, timeout_s=10)
        finally:
            collector.cancel()
    assert [(topic, body["values"]["torque"]) for topic, body in seen] == [
        ("ft/mill-01/telemetry", 2.0),
        ("ft/mill-02/telemetry", 3.0),
        ("ft/mill-01/telemetry", 9.0),
    ]


async def test_the_server_ingests_over_its_own_account_and_never_a_forged_topic(
    tmp_path: Path, broker: LockedBroker
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/twin.db",
        mqtt_url=broker.url_for("ft-server"),
        mqtt_client_id="ft-test-locked",
        port=free_port(),
    )
    async with serve_app(settings) as (_base, app):
        store = app.state.services.store
        async with client(broker, "mill-01") as device:
            await device.publish("ft/mill-02/telemetry", reading("mill-02"), qos=1)  # refused by the broker
            await device.publish("ft/mill-01/telemetry", reading("mill-01"), qos=1)

            async def stored() -> bool:
                return bool(await store.latest("mill-01"))

            await wait_until(stored, timeout_s=15)
        assert await store.latest("mill-02") == {}


async def test_a_device_receives_only_its_own_commands(broker: LockedBroker) -> None:
    async with client(broker, "mill-01") as device:
        await device.subscribe("ft/+/commands", qos=1)  # asks for every machine's: the broker delivers its own
        async with client(broker, "ft-server") as server:
            await server.publish("ft/mill-02/commands", b'{"command": "stop"}', qos=1)
            await server.publish("ft/mill-01/commands", b'{"command": "start"}', qos=1)
        message = await anext(device.messages)
        assert (str(message.topic), message.payload) == ("ft/mill-01/commands", b'{"command": "start"}')


def test_mqtt_config_writes_the_files_and_keeps_passwords_unless_rotated(tmp_path: Path) -> None:
    out = tmp_path / "mq"
    first = CliRunner().invoke(cli, ["mqtt-config", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert oct((out / "credentials.json").stat().st_mode & 0o777) == "0o600"
    passwords = json.loads((out / "credentials.json").read_text())["passwords"]
    assert {"ft-server", "ft-simulator", "mill-01", "pump-01"} <= set(passwords)
    assert "pattern write ft/%u/telemetry" in (out / "acl").read_text()
    assert "allow_anonymous false" in (out / "mosquitto.conf").read_text()
    CliRunner().invoke(cli, ["mqtt-config", "--out", str(out)])
    assert json.loads((out / "credentials.json").read_text())["passwords"] == passwords
    CliRunner().invoke(cli, ["mqtt-config", "--out", str(out), "--rotate"])
    assert json.loads((out / "credentials.json").read_text())["passwords"]["mill-01"] != passwords["mill-01"]
    bad = CliRunner().invoke(cli, ["mqtt-config", "--out", str(out), "--prefix", "a/b"])
    assert bad.exit_code == 1
    assert "topic level" in bad.output
