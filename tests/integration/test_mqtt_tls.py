"""MQTT over TLS against a real Mosquitto TLS listener, with a CA and certificates made here:
server verification, host name check, mutual TLS, and the gateway, simulator and load mode
built from their settings or `mqtts://` URLs."""

from __future__ import annotations

import argparse
import json
import logging
import queue
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from device_sim.load import add_arguments as load_arguments
from device_sim.load import main as load_main
from gateway.service import Gateway
from gateway.settings import GatewaySettings
from launcher.parser import build_parser
from launcher.sim_command import cmd_sim
from shopfloor.mqtt import MqttSettings, connect, make_client, unreachable
from tests.certs import Pki, make_pki
from tests.services import Mosquitto, run_mosquitto_tls
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Mosquitto]:
    """TLS, server certificate only: any client that trusts the CA gets in."""
    workdir = tmp_path_factory.mktemp("mosquitto-tls")
    with run_mosquitto_tls(
        workdir, cafile=pki.ca, certfile=pki.server_cert, keyfile=pki.server_key
    ) as broker:
        yield broker


@pytest.fixture(scope="module")
def mtls_broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Mosquitto]:
    """Mutual TLS: only clients with a certificate signed by the CA get in."""
    workdir = tmp_path_factory.mktemp("mosquitto-mtls")
    with run_mosquitto_tls(
        workdir,
        cafile=pki.ca,
        certfile=pki.server_cert,
        keyfile=pki.server_key,
        require_certificate=True,
    ) as broker:
        yield broker


class Client:
    """A client made by the project's factory; records connects, failures and messages."""

    def __init__(self, settings: MqttSettings, subscribe: str | None = None) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.ready = threading.Event()  # connected (and subscribed, when asked to)
        self.failed = threading.Event()  # a connect that failed, or a connection lost
        self.refused: list[str] = []
        self.client = make_client(settings, f"tls-test-{uuid.uuid4().hex[:8]}")
        logged = self.client.on_connect_fail

        def on_connect_fail(client: mqtt.Client, userdata: Any) -> None:
            if logged is not None:
                logged(client, userdata)  # the factory's warning, with paho's reason
            self.failed.set()

        def on_connect(c: mqtt.Client, _u: Any, _f: Any, reason: Any, *_p: Any) -> None:
            if reason.is_failure:
                self.refused.append(str(reason))
                self.failed.set()
            elif subscribe is None:
                self.ready.set()
            else:
                c.subscribe(subscribe, qos=1)

        self.client.on_connect_fail = on_connect_fail
        self.client.on_connect = on_connect
        self.client.on_disconnect = lambda *_a: self.failed.set()
        self.client.on_subscribe = lambda *_a: self.ready.set()
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)
        connect(self.client, settings, session_expiry_s=0)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _settings(broker: Mosquitto, **tls: Any) -> MqttSettings:
    return MqttSettings(host=broker.host, port=broker.port, tls=True, **tls)


def _round_trip(settings: MqttSettings) -> None:
    """A subscriber and a publisher with `settings`: a QoS 1 message goes across."""
    topic = f"tls/{uuid.uuid4().hex}"
    sub = Client(settings, subscribe=topic)
    pub = Client(settings)
    try:
        assert sub.ready.wait(10) and pub.ready.wait(10), (sub.refused, pub.refused)
        pub.client.publish(topic, b"over tls", qos=1).wait_for_publish(10)
        msg = sub.messages.get(timeout=10)
        assert (msg.topic, msg.payload) == (topic, b"over tls")
    finally:
        pub.close()
        sub.close()


def _refused(settings: MqttSettings) -> None:
    """A client with `settings` fails to connect, and never gets in."""
    client = Client(settings)
    try:
        assert client.failed.wait(10), "the connection should have failed"
        assert not client.ready.is_set()
    finally:
        client.close()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_client_that_trusts_the_ca_publishes_and_receives_over_tls(
    tls_broker: Mosquitto, pki: Pki, protocol: str
) -> None:
    settings = _settings(tls_broker, ca_file=pki.ca, protocol=protocol)

    assert unreachable(settings) is None
    _round_trip(settings)


@pytest.mark.parametrize("trust", ["system CAs", "another CA"])
def test_a_client_that_does_not_trust_the_ca_is_refused_and_told_why(
    tls_broker: Mosquitto, pki: Pki, trust: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tls_broker, ca_file=None if trust == "system CAs" else pki.other_ca)

    why = unreachable(settings)
    assert why is not None
    assert why.startswith("the broker's TLS certificate is not trusted: ")
    assert "SHOPFLOOR_MQTT__CA_FILE" in why
    with caplog.at_level(logging.WARNING, logger="shopfloor.mqtt"):
        _refused(settings)
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text, caplog.text


def test_the_broker_host_name_must_match_its_certificate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere = make_pki(tmp_path / "pki", server_names="DNS:broker.invalid")
    with run_mosquitto_tls(
        tmp_path, cafile=elsewhere.ca, certfile=elsewhere.server_cert, keyfile=elsewhere.server_key
    ) as broker:
        checked = _settings(broker, ca_file=elsewhere.ca)
        why = unreachable(checked)
        assert why is not None and "IP address mismatch" in why, why
        with caplog.at_level(logging.WARNING, logger="shopfloor.mqtt"):
            _refused(checked)
        assert "IP address mismatch" in caplog.text

        # the lab switch turns every check off (and says so)
        _round_trip(_settings(broker, tls_insecure=True))


@pytest.mark.parametrize("key", ["plain key", "encrypted key"])
def test_mutual_tls_lets_in_a_client_with_its_certificate(
    mtls_broker: Mosquitto, pki: Pki, key: str
) -> None:
    if key == "plain key":
        identity: dict[str, Any] = {"cert_file": pki.client_cert, "key_file": pki.client_key}
    else:
        identity = {
            "cert_file": pki.client_cert,
            "key_file": pki.client_key_encrypted,
            "key_password": pki.key_password,
        }
    _round_trip(_settings(mtls_broker, ca_file=pki.ca, **identity))


def test_mutual_tls_refuses_a_client_without_a_certificate(
    mtls_broker: Mosquitto, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="shopfloor.mqtt"):
        _refused(_settings(mtls_broker, ca_file=pki.ca))
    # TLS 1.3 checks the client's certificate after the client's handshake is done: the client
    # reads the broker's "certificate required" alert, or, when the broker has already closed
    # the socket, an EOF; either way it is refused (_refused), and says why in its log
    assert (
        "certificate required" in caplog.text
        or "EOF occurred in violation of protocol" in caplog.text
    ), caplog.text


def test_a_gateway_with_tls_settings_from_the_environment_ingests_telemetry(
    mtls_broker: Mosquitto, pki: Pki, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    env = {
        "HOST": mtls_broker.host,
        "PORT": str(mtls_broker.port),
        "TLS": "true",
        "CA_FILE": str(pki.ca),
        "CERT_FILE": str(pki.client_cert),
        "KEY_FILE": str(pki.client_key_encrypted),
        "KEY_PASSWORD": pki.key_password,
        "CLIENT_ID": f"gw-tls-{uuid.uuid4().hex[:8]}",
    }
    for name, value in env.items():
        clean_env.setenv(f"SHOPFLOOR_MQTT__{name}", value)
    clean_env.setenv("SHOPFLOOR_INFLUX__SQLITE_PATH", str(tmp_path / "telemetry.db"))
    clean_env.setenv("SHOPFLOOR_SPOOL_DIR", str(tmp_path / "spool"))
    clean_env.setenv("SHOPFLOOR_FLUSH_INTERVAL_S", "0.1")
    settings = GatewaySettings()
    assert settings.mqtt.tls and settings.mqtt.ssl_context() is not None

    gateway = Gateway(settings)
    gateway.start()
    machine = Client(_settings(mtls_broker, ca_file=pki.ca, **_identity(pki)))
    try:
        assert gateway.subscribed.wait(10)
        assert machine.ready.wait(10)
        reading = json.dumps({"values": {"spindle_load": 42.0}}).encode()
        topic = f"shopfloor/tls{uuid.uuid4().hex[:6]}/line1/cnc-1/telemetry"
        machine.client.publish(topic, reading, qos=1).wait_for_publish(10)
        wait_for(lambda: gateway.stats.points_written >= 1, "the reading stored", 10)
    finally:
        machine.close()
        gateway.stop()


def _identity(pki: Pki) -> dict[str, Any]:
    return {"cert_file": pki.client_cert, "key_file": pki.client_key}


def _use_pki_from_environment(env: pytest.MonkeyPatch, pki: Pki) -> None:
    env.setenv("SHOPFLOOR_MQTT__CA_FILE", str(pki.ca))
    env.setenv("SHOPFLOOR_MQTT__CERT_FILE", str(pki.client_cert))
    env.setenv("SHOPFLOOR_MQTT__KEY_FILE", str(pki.client_key))


def test_the_simulator_runs_bridges_and_a_sparkplug_node_over_mqtts(
    mtls_broker: Mosquitto, pki: Pki, clean_env: pytest.MonkeyPatch
) -> None:
    _use_pki_from_environment(clean_env, pki)
    site = f"tls{uuid.uuid4().hex[:6]}"
    watcher = Client(_settings(mtls_broker, ca_file=pki.ca, **_identity(pki)), subscribe="#")
    assert watcher.ready.wait(10)
    argv = ["sim", "--broker", f"mqtts://{mtls_broker.host}:{mtls_broker.port}", "--site", site]
    argv += ["--bridges", "--sparkplug", "m2", "--speed", "50", "--exit-when-done"]
    argv += ["--job", "SO-1:10:m1:2:1.0", "--job", "SO-2:10:m2:2:1.0"]
    try:
        assert cmd_sim(build_parser().parse_args(argv)) == 0
        seen: set[str] = set()

        def both() -> bool:
            while not watcher.messages.empty():
                seen.add(watcher.messages.get().topic)
            return (
                f"shopfloor/{site}/line1/m1/event" in seen and f"spBv1.0/{site}/NBIRTH/m2" in seen
            )

        wait_for(both, "the bridge's events and the edge node's birth", 10)
    finally:
        watcher.client.publish(f"shopfloor/{site}/line1/m1/event", b"", qos=1, retain=True)
        watcher.close()


def test_load_mode_publishes_over_mqtts(
    tls_broker: Mosquitto, pki: Pki, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("SHOPFLOOR_MQTT__CA_FILE", str(pki.ca))
    parser = argparse.ArgumentParser()
    load_arguments(parser)
    url = f"mqtts://{tls_broker.host}:{tls_broker.port}"
    args = parser.parse_args(["--broker", url, "--messages", "50", "--rate", "1000", "--quiet"])

    assert load_main(args) == 0


def test_the_simulator_says_at_once_that_it_does_not_trust_the_broker(
    tls_broker: Mosquitto, capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch
) -> None:
    argv = ["sim", "--broker", f"mqtts://{tls_broker.host}:{tls_broker.port}", "--duration", "1"]

    assert cmd_sim(build_parser().parse_args(argv)) == 1
    err = capsys.readouterr().err
    assert f"no MQTT broker at {tls_broker.host}:{tls_broker.port} (TLS)" in err
    assert "TLS certificate is not trusted" in err
