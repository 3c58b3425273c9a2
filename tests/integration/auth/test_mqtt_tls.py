"""TLS to the broker (``mqtts://``): a private Mosquitto with a TLS-only listener, its certificate from a CA the test
makes. The simulator (``factorytwin simulate --mqtt mqtts://... --mqtt-ca``, a real process) publishes, the server's
ingest (``FT_MQTT_URL=mqtts://...``, ``FT_MQTT_CA_FILE``) stores, and a command of the server reaches the simulator
and is answered; a client that does not trust the CA, or speaks plain MQTT, is refused; a broker requiring client
certificates takes ``FT_MQTT_CERT_FILE``/``_KEY_FILE``."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest

from factorytwin.config import Settings
from factorytwin.mqtt import ClientOptions, MqttEndpoint
from factorytwin.sim.publish import MqttPublisher
from tests.credentials import admin_headers
from tests.integration.twin.conftest import BrokerTls, Mosquitto, serve, wait_until
from tests.pki import Issued, TestCa

pytestmark = pytest.mark.integration
SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture
def ca(tmp_path: Path) -> TestCa:
    return TestCa(tmp_path / "pki")


@pytest.fixture
def broker_cert(ca: TestCa) -> Issued:
    return ca.issue("broker", server=True)


@pytest.fixture
def tls_broker(tmp_path: Path, ca: TestCa, broker_cert: Issued) -> Iterator[Mosquitto]:
    """A private Mosquitto whose only listener is TLS, with a certificate of ``ca``."""
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker", BrokerTls(ca.cert, broker_cert.cert, broker_cert.key))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def health(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.get("/api/v1/health")
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


async def test_the_simulator_publishes_and_the_server_ingests_over_mqtts(
    tmp_path: Path, tls_broker: Mosquitto, ca: TestCa
) -> None:
    assert tls_broker.url.startswith("mqtts://")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/tls.db",
        mqtt_url=tls_broker.url,
        mqtt_ca_file=ca.cert,
        mqtt_client_id="ft-tls-ingest",
    )
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, headers=admin_headers(base)) as http:
        env = {**os.environ, "PYTHONPATH": str(SRC), "FT_MQTT_CA_FILE": str(ca.cert)}
        simulator = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from factorytwin.cli import app; app()",
            "simulate",
            "--mqtt",
            tls_broker.url,
            "--mqtt-ca",
            str(ca.cert),
            "--speed",
            "60",
            "--duration",
            "30",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:

            async def stored() -> int:
                return int((await health(http))["store"]["readings"])

            assert await wait_until(stored, timeout_s=30) > 0

            sent = await http.post("/api/v1/machines/mill-01/commands", json={"command": "stop"})
            assert sent.status_code == 202, sent.text
            assert sent.json()["delivered"] is True, sent.text  # published by the server's command link, over TLS
            command_id = sent.json()["command"]["id"]

            async def answered() -> list[Any]:  # the simulator's listener got it over TLS and answered it
                events = await http.get("/api/v1/machines/mill-01/events", params={"kind": "command"})
                return [e for e in events.json() if command_id in json.dumps(e)]

            [event] = await wait_until(answered, timeout_s=15, every_s=0.2)
            assert (event["status"], event["data"]["accepted"]) == ("stopped", True), event  # the machine's answer
        finally:
            simulator.terminate()
            output, _ = await simulator.communicate()
        assert b"(TLS)" in output, output.decode(errors="replace")[-2000:]
        mqtt = (await health(http))["sections"]["mqtt"]
        assert (mqtt["connected"], mqtt["connects"], mqtt["reconnects"]) == (True, 1, 0), mqtt  # over TLS
        assert int(mqtt["ingested_messages"]) > 0, mqtt


async def test_a_client_that_does_not_trust_the_ca_or_speaks_plain_mqtt_is_refused(tls_broker: Mosquitto) -> None:
    untrusting = MqttEndpoint.parse(tls_broker.url)  # mqtts:// with the system's CAs, which never signed it
    with pytest.raises(aiomqtt.MqttError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        async with ClientOptions("no-ca").client(untrusting):
            pass
    with pytest.raises(aiomqtt.MqttError):  # plain MQTT to the TLS listener: no answer the client understands
        async with aiomqtt.Client("127.0.0.1", tls_broker.port, identifier="plain", timeout=2):
            pass


async def test_a_broker_requiring_client_certificates_takes_the_simulators(
    tmp_path: Path, ca: TestCa, broker_cert: Issued
) -> None:
    (tmp_path / "strict").mkdir()
    broker = Mosquitto(
        tmp_path / "strict", BrokerTls(ca.cert, broker_cert.cert, broker_cert.key, require_certificate=True)
    )
    broker.start()
    try:
        without = MqttEndpoint.parse(broker.url, ca_file=ca.cert).tls
        assert without is not None
        with pytest.raises(aiomqtt.MqttError):  # the broker ends the handshake: no certificate
            async with aiomqtt.Client(
                "127.0.0.1", broker.port, identifier="no-client-cert", tls_context=without.context(), timeout=3
            ):
                pass
        client = ca.issue("ft-simulator", server=False)
        endpoint = MqttEndpoint.parse(broker.url, ca_file=ca.cert, cert_file=client.cert, key_file=client.key)
        async with ClientOptions("watcher").client(endpoint) as watcher:
            await watcher.subscribe("ft/+/telemetry", qos=1)
            publisher = MqttPublisher(endpoint, client_id="ft-sim-cert")
            run = asyncio.create_task(publisher.run())
            try:
                publisher.submit(
                    [{"machine_id": "mill-01", "ts": "2025-01-01T00:00:00Z", "values": {"torque": 1.0}}], []
                )
                message = await asyncio.wait_for(anext(aiter(watcher.messages)), timeout=10)
                assert str(message.topic) == "ft/mill-01/telemetry"
            finally:
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)
    finally:
        broker.stop()


def test_an_unreadable_ca_file_is_told_when_the_endpoint_is_read(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    with pytest.raises(ValueError, match="is not a readable PEM CA bundle"):
        MqttEndpoint.parse("mqtts://127.0.0.1", ca_file=tmp_path / "ca.pem")
    assert isinstance(MqttEndpoint.parse("mqtts://127.0.0.1").tls.context(), ssl.SSLContext)  # type: ignore[union-attr]
