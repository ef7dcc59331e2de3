"""Sparkplug edge nodes for tests: a scripted session, and one on a real broker."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor.sparkplug import names
from shopfloor.sparkplug.edge import EdgeNodeSession
from shopfloor.sparkplug.sparkplug_b_pb2 import Payload
from shopfloor.sparkplug.values import DataType, Scalar


def edge_node(group: str = "plant1", node: str = "plc-1", bd_seq: int = 0) -> EdgeNodeSession:
    """An edge node with node metrics (state, counter, job, temperature) and one device `press`."""
    session = EdgeNodeSession(group, node, bd_seq=bd_seq)
    session.define(None, names.STATE_METRIC, DataType.STRING, "IDLE")
    session.define(None, names.COUNTER_METRIC, DataType.UINT64, 0)
    session.define(None, names.ORDER_METRIC, DataType.STRING, "")
    session.define(None, names.OPERATION_METRIC, DataType.UINT32, 0)
    session.define(None, "Spindle/Temp", DataType.DOUBLE, 21.5)
    session.define("press", names.STATE_METRIC, DataType.STRING, "IDLE")
    session.define("press", "Force", DataType.FLOAT, 0.0)
    return session


class ScriptedEdge:
    """An edge node on a real broker: NDEATH as its will, and births again on a rebirth NCMD."""

    def __init__(self, host: str, port: int, session: EdgeNodeSession, devices: list[str]) -> None:
        self.session, self.devices = session, devices
        self.rebirths = 0
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"edge-{session.node}")
        self.client.will_set(*session.will(), qos=1)
        self.client.on_message = self._on_command
        subscribed = threading.Event()  # the subscription is in place before anything is sent
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(host, port, keepalive=5)
        self.client.loop_start()
        command = f"spBv1.0/{session.group}/NCMD/{session.node}"
        self.client.subscribe(command, qos=1)
        assert subscribed.wait(10), "the broker did not confirm the edge node's subscription"

    def _on_command(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        command = Payload.FromString(bytes(msg.payload))
        if any(m.name == names.REBIRTH and m.boolean_value for m in command.metrics):
            self.rebirths += 1
            self.birth(wait=False)  # on the network thread: waiting here would block the send

    def birth(self, wait: bool = True) -> None:
        """NBIRTH and every DBIRTH, in order."""
        now_ms = int(time.time() * 1000)
        with self._lock:
            self.publish(self.session.node_birth(now_ms), wait=wait)
            for device in self.devices:
                self.publish(self.session.device_birth(device, now_ms), wait=wait)

    def send(
        self, values: dict[str, Scalar | None], device: str | None = None, qos: int = 0
    ) -> None:
        """NDATA or DDATA stamped now."""
        with self._lock:
            self.publish(self.session.data(device, values, int(time.time() * 1000)), qos)

    def publish(self, message: tuple[str, bytes], qos: int = 0, wait: bool = True) -> None:
        info = self.client.publish(*message, qos=qos)
        if wait:
            info.wait_for_publish(5)

    def drop(self) -> None:
        """Lose the connection without DISCONNECT: the broker publishes the NDEATH will."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
