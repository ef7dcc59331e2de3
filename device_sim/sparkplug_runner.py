"""Publishes simulated machines as Sparkplug B edge nodes: births, data, rebirth, death will."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from pydantic import BaseModel

from shopfloor.mqtt import MqttSettings, connect, make_client
from shopfloor.sparkplug.names import REBIRTH
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.topics import NCMD, SparkplugTopic

from .machine import SimMachine
from .sparkplug_machine import SparkplugMachine

log = logging.getLogger(__name__)
# Sparkplug B: births and data at QoS 0; the NDEATH will at QoS 1
DATA_QOS, WILL_QOS = 0, 1


def asks_rebirth(msg: mqtt.MQTTMessage) -> bool:
    """An NCMD that asks for a rebirth; an unreadable one is logged and asks nothing."""
    try:
        command = Payload.FromString(bytes(msg.payload))
    except Exception:  # a bad command must not kill the client
        log.warning("ignoring an unreadable NCMD on %s", msg.topic)
        return False
    return any(m.name == REBIRTH and m.boolean_value for m in command.metrics)


class SparkplugEdge:
    """One MQTT client per machine, since each edge node has its own NDEATH will."""

    def __init__(self, machine: SimMachine, group: str, settings: MqttSettings) -> None:
        self.node = SparkplugMachine(machine, group)
        self._lock = threading.Lock()  # births (network thread) and data (sim loop) share seq
        client_id = f"shopfloor-spb-{machine.machine_id}-{uuid.uuid4().hex[:6]}"
        self._client = make_client(settings, client_id)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._settings = settings
        self.connected = threading.Event()
        self._will()

    def _will(self) -> None:
        topic, payload = self.node.session.will()
        self._client.will_set(topic, payload, qos=WILL_QOS, retain=False)

    def start(self) -> None:
        connect(self._client, self._settings, session_expiry_s=0)
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_args: object) -> None:
        cmd = str(SparkplugTopic(self.node.session.group, NCMD, self.node.session.node))
        client.subscribe(cmd, qos=1)
        self._send_birth()
        self.connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self.connected.clear()
        with self._lock:
            topic, payload = self.node.new_session()
        self._client.will_set(topic, payload, qos=WILL_QOS, retain=False)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if asks_rebirth(msg):
            log.info("%s: rebirth requested", self.node.session.node)
            self._send_birth()

    def _send_birth(self) -> None:
        with self._lock:
            topic, payload = self.node.birth(datetime.now(UTC))
            self._client.publish(topic, payload, qos=DATA_QOS)

    def publish(self, model: BaseModel, now: datetime) -> int:
        """Publish one contract message as NDATA (after an NBIRTH if it adds a metric)."""
        with self._lock:
            messages = self.node.messages(model, now)
            for topic, payload in messages:
                self._client.publish(topic, payload, qos=DATA_QOS)
        return len(messages)

    def close(self) -> None:
        """Leave as the spec asks: NDEATH first (a clean disconnect sends no will)."""
        with self._lock:
            topic, payload = self.node.session.will()
        self._client.publish(topic, payload, qos=WILL_QOS).wait_for_publish(timeout=10)
        self._client.disconnect()
        self._client.loop_stop()
