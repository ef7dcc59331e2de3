"""The load mode against a real Mosquitto: what it says was acknowledged is what arrives."""

from __future__ import annotations

import argparse
import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.load import BrokerUnreachable, LoadPlan, add_arguments, main, run_load
from shopfloor.contract.payloads import parse_telemetry
from shopfloor.mqtt import MqttSettings
from tests.services import Mosquitto, free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


class Subscriber:
    """Counts the telemetry of one site, per topic, checking each payload on the way."""

    def __init__(self, broker: Mosquitto, site: str) -> None:
        self.per_topic: Counter[str] = Counter()
        self.bad: list[str] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"count-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe(f"shopfloor/{site}/+/+/telemetry", 1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "subscriber never got its SUBACK"

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            parse_telemetry(msg.payload)
        except ValueError as exc:
            self.bad.append(str(exc))
        with self._lock:
            self.per_topic[msg.topic] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.per_topic.values())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def site() -> str:
    return f"load-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def subscriber(mosquitto: Mosquitto, site: str) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto, site)
    yield sub
    sub.close()


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_every_acknowledged_message_arrives(
    mosquitto: Mosquitto, site: str, subscriber: Subscriber
) -> None:
    plan = LoadPlan(machines=4, rate=50, duration_s=2, qos=1, site=site)
    summary = run_load(plan, MqttSettings(host=mosquitto.host, port=mosquitto.port))

    assert summary.failed == 0
    assert summary.acknowledged == summary.published > 0
    wait_for(lambda: subscriber.total >= summary.acknowledged, "every message", 10)
    # PUBACKs all came back before run_load returned, so nothing more is on its way
    assert subscriber.total == summary.acknowledged
    assert subscriber.bad == []
    assert len(subscriber.per_topic) == 4
    assert max(subscriber.per_topic.values()) - min(subscriber.per_topic.values()) <= 1


@pytest.mark.parametrize(("qos", "protocol"), [("0", "3.1.1"), ("1", "3.1.1"), ("0", "5")])
def test_the_command_publishes_a_message_count(
    mosquitto: Mosquitto, site: str, subscriber: Subscriber, qos: str, protocol: str
) -> None:
    argv = ["--broker", mosquitto.url, "--site", site, "--messages", "120", "--rate", "100"]
    argv += ["--machines", "3", "--qos", qos, "--mqtt-protocol", protocol, "--quiet"]
    assert main(_args(*argv)) == 0
    wait_for(lambda: subscriber.total >= 120, "120 messages", 10)
    assert subscriber.total == 120
    assert sorted(subscriber.per_topic.values()) == [40, 40, 40]


def test_an_unreachable_broker_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(_args("--broker", f"mqtt://127.0.0.1:{port}", "--duration", "1")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"127.0.0.1:{port}" in err and "cannot reach the MQTT broker" in err


def test_run_load_raises_when_no_broker_listens() -> None:
    settings = MqttSettings(host="127.0.0.1", port=free_port())
    with pytest.raises(BrokerUnreachable, match="cannot reach"):
        run_load(LoadPlan(machines=1, duration_s=1), settings)
