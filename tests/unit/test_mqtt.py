"""The MQTT module: endpoint, back-off, and the pins on aiomqtt's internals (manual ack, PUBACK reason codes).

If an aiomqtt or paho upgrade moves what ``factorytwin.mqtt.MqttConnection`` reaches into, these tests fail here
rather than MQTT ingest silently acknowledging (or never acknowledging) messages in production.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import ssl
from pathlib import Path

import aiomqtt
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from typer.testing import CliRunner

import factorytwin.mqtt
from factorytwin.cli import app as cli
from factorytwin.config import Settings
from factorytwin.ingest.mqtt import RateLimitedLog
from factorytwin.mqtt import (
    NO_MATCHING_SUBSCRIBERS,
    Backoff,
    ClientOptions,
    MqttConnection,
    MqttEndpoint,
    MqttReconnector,
    MqttTls,
    paho_client,
)
from tests.integration.twin.conftest import free_port


def test_mqtt_url_is_parsed_and_bad_urls_are_named() -> None:
    assert MqttEndpoint.parse("mqtt://127.0.0.1:1884") == MqttEndpoint("127.0.0.1", 1884)
    assert MqttEndpoint.parse("mqtt://u:p@broker").username == "u"
    assert str(MqttEndpoint.parse("mqtt://u:secret@broker")) == "broker:1883"  # logs never show the password
    with pytest.raises(ValueError, match="scheme"):
        MqttEndpoint.parse("http://x")
    with pytest.raises(ValueError, match="no host"):
        MqttEndpoint.parse("mqtt://")


def test_mqtts_is_tls_on_8883_and_credentials_come_once() -> None:
    secure = MqttEndpoint.parse("mqtts://broker")
    assert (secure.port, secure.tls) == (8883, MqttTls())
    assert str(secure) == "broker:8883 (TLS)"
    assert secure.tls is not None
    assert secure.tls.context().verify_mode is ssl.CERT_REQUIRED
    assert secure.tls.context().check_hostname  # the broker's name is checked, not only its CA
    assert MqttEndpoint.parse("mqtts://broker:1884").port == 1884
    assert MqttEndpoint.parse("mqtt://broker", username="u", password="p").password == "p"
    assert MqttEndpoint.parse("mqtt://u%40plant:p%3Ass@broker").username == "u@plant"  # URL-decoded
    with pytest.raises(ValueError, match="not both"):
        MqttEndpoint.parse("mqtt://u:p@broker", password="other")
    with pytest.raises(ValueError, match="need an mqtts:// URL"):
        MqttEndpoint.parse("mqtt://broker", ca_file=Path("ca.pem"))
    with pytest.raises(ValueError, match="go together"):
        MqttEndpoint.parse("mqtts://broker", cert_file=Path("client.pem"))
    with pytest.raises(ValueError, match="is not a readable PEM CA bundle"):
        MqttEndpoint.parse("mqtts://broker", ca_file=Path("/nonexistent/ca.pem"))


def test_the_endpoint_of_the_settings_carries_their_credentials_and_tls(tmp_path: Path) -> None:
    settings = Settings(mqtt_url="mqtts://broker", mqtt_username="ft-server", mqtt_password="s3cret")
    endpoint = MqttEndpoint.from_settings(settings)
    assert (endpoint.host, endpoint.port, endpoint.username, endpoint.password) == (
        "broker",
        8883,
        "ft-server",
        "s3cret",
    )
    assert endpoint.tls == MqttTls()
    result = CliRunner().invoke(cli, ["serve"], env={"FT_MQTT_URL": "mqtt://broker", "FT_MQTT_CA_FILE": "ca.pem"})
    assert result.exit_code == 2
    assert result.output == "error: mqtt_ca_file/mqtt_cert_file/mqtt_key_file need an mqtts:// URL (TLS)\n"


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(0.2, 1.0)
    assert [backoff.next() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next() == 0.2
    with pytest.raises(ValueError, match="back-off"):
        Backoff(0.0, 1.0)


async def test_the_paho_client_under_aiomqtt_is_where_we_expect_it() -> None:
    client = aiomqtt.Client("127.0.0.1", 1883, identifier="pin-test")
    assert isinstance(paho_client(client), paho.Client)


async def test_manual_ack_is_switched_on_and_acks_the_message_id(monkeypatch: pytest.MonkeyPatch) -> None:
    client = aiomqtt.Client("127.0.0.1", 1883, identifier="pin-ack", protocol=aiomqtt.ProtocolVersion.V5)
    inner = paho_client(client)
    connection = MqttConnection(client, manual_ack=True)
    assert inner._manual_ack is True  # paho then leaves the PUBACK to us
    sent: list[int] = []

    def send_puback(mid: int) -> MQTTErrorCode:
        sent.append(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    monkeypatch.setattr(inner, "_send_puback", send_puback)
    # A message arriving through paho's callback reaches aiomqtt's queue with its message id ...
    incoming = paho.MQTTMessage(mid=7, topic=b"ft/mill-01/telemetry")
    incoming.qos = 1
    assert inner.on_message is not None
    inner.on_message(inner, None, incoming)
    message = await asyncio.wait_for(anext(aiter(connection.messages)), 1)
    assert (message.mid, message.qos) == (7, 1)
    # ... and our ack sends paho's PUBACK for exactly that id.
    connection.ack(message)
    assert sent == [7]


async def test_without_manual_ack_our_ack_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    client = aiomqtt.Client("127.0.0.1", 1883, identifier="pin-noack")
    inner = paho_client(client)
    connection = MqttConnection(client, manual_ack=False)
    sent: list[int] = []
    monkeypatch.setattr(inner, "_send_puback", sent.append)
    connection.ack(aiomqtt.Message("t", b"", 1, False, 3, None))
    assert sent == []


async def test_no_matching_subscribers_is_counted_and_aiomqtt_still_sees_the_puback() -> None:
    client = aiomqtt.Client("127.0.0.1", 1883, identifier="pin-pub", protocol=aiomqtt.ProtocolVersion.V5)
    inner = paho_client(client)
    connection = MqttConnection(client)
    waiting = asyncio.Event()
    client._pending_publishes[11] = waiting  # what aiomqtt's publish() waits on
    assert inner.on_publish is not None
    props = Properties(PacketTypes.PUBACK)  # type: ignore[no-untyped-call]
    unmatched = ReasonCode(PacketTypes.PUBACK, identifier=NO_MATCHING_SUBSCRIBERS)
    inner.on_publish(inner, None, 11, unmatched, props)  # type: ignore[call-arg]
    assert connection.unmatched_publishes == 1
    assert waiting.is_set()
    inner.on_publish(inner, None, 12, ReasonCode(PacketTypes.PUBACK, identifier=0), props)  # type: ignore[call-arg]
    assert connection.unmatched_publishes == 1


async def test_reconnector_backs_off_while_the_broker_is_unreachable() -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 4:
            raise asyncio.CancelledError

    reconnector = MqttReconnector(
        MqttEndpoint("127.0.0.1", free_port()), ClientOptions("backoff-test"), backoff=Backoff(0.2, 1.0), sleep=sleep
    )

    async def session(connection: MqttConnection) -> None:
        raise AssertionError("nothing listens there")

    with pytest.raises(asyncio.CancelledError):
        await reconnector.run(session)
    assert delays == [0.2, 0.4, 0.8, 1.0]
    assert reconnector.failures == 4
    assert reconnector.connects == 0
    assert not reconnector.connected.is_set()


def test_rate_limited_log_tells_each_reason_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    limited = RateLimitedLog(logging.getLogger("test.ratelimit"), every_s=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.ratelimit"):
        assert limited.warning("too_deep", "rejected on %s", "ft/a/telemetry")
        assert not limited.warning("too_deep", "rejected on %s", "ft/b/telemetry")
        assert limited.warning("not_json", "rejected on %s", "ft/c/telemetry")  # another reason: its own line
        now[0] += 10.0
        assert limited.warning("too_deep", "rejected on %s", "ft/d/telemetry")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "rejected on ft/a/telemetry",
        "rejected on ft/c/telemetry",
        "rejected on ft/d/telemetry (1 more like it since the last report)",
    ]


def _our_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("factorytwin")}


def test_the_mqtt_module_sits_below_ingest_twin_and_sim() -> None:
    src = Path(factorytwin.mqtt.__file__).parent
    assert _our_imports(src / "mqtt.py") == {"factorytwin.mqttinbox"}  # its bulk reader, below it too
    assert _our_imports(src / "mqttinbox.py") == set()
    for path in (src / "ingest").glob("*.py"):
        assert not any(n.startswith("factorytwin.twin") for n in _our_imports(path)), path.name
    for path in (src / "sim").rglob("*.py"):
        sideways = [n for n in _our_imports(path) if n.split(".")[1] in {"ingest", "twin", "store", "api"}]
        assert sideways == [], path.name


async def test_a_cancellation_lost_inside_a_publish_is_raised_all_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = MqttConnection(aiomqtt.Client("127.0.0.1", 1883, identifier="unit"))

    async def publish_losing_the_cancel(*args: object, **kwargs: object) -> None:
        # What Python 3.11's wait_for does when the PUBACK and the cancellation arrive together.
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)

    monkeypatch.setattr(connection.client, "publish", publish_losing_the_cancel)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.ensure_future(connection.publish("t", b"x"))
    with pytest.raises(asyncio.CancelledError):
        await asyncio.ensure_future(connection.publish_matched("t", b"x"))
