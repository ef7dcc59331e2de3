"""The load mode's MQTT side: the connection, and what was published and acknowledged."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from shopfloor.mqtt import MqttSettings, connect, make_client, unreachable

from .load_plan import LoadPlan

log = logging.getLogger(__name__)


class BrokerUnreachable(ConnectionError):
    """The broker did not accept our connection; the message names host:port."""


class Acks:
    """PUBACKs (or QoS 0 writes) from paho's thread, handed to the publishing thread in order."""

    def __init__(self) -> None:
        self.queue: deque[tuple[int, float, bool]] = deque()
        self.connected = threading.Event()
        self.refused: str | None = None
        self.receive_maximum = 65535

    def on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self.queue.append((mid, time.perf_counter(), bool(reason.is_failure)))

    def on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
        self.receive_maximum = getattr(props, "ReceiveMaximum", self.receive_maximum)
        self.connected.set()


def open_client(plan: LoadPlan, settings: MqttSettings, acks: Acks) -> mqtt.Client:
    where = settings.describe()
    # paho's background connect hides the reason; one plain connection (and handshake) tells it
    if (why := unreachable(settings, plan.connect_timeout_s)) is not None:
        raise BrokerUnreachable(f"cannot reach the MQTT broker at {where}: {why}")
    client = make_client(settings, settings.client_id or f"shopfloor-load-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(plan.inflight)
    client.on_connect, client.on_publish = acks.on_connect, acks.on_publish
    connect(client, settings, session_expiry_s=0)
    client.loop_start()
    if not acks.connected.wait(plan.connect_timeout_s) or acks.refused:
        client.loop_stop()
        why = acks.refused or f"no CONNACK within {plan.connect_timeout_s:g} s"
        raise BrokerUnreachable(f"the MQTT broker at {where} did not let us in: {why}")
    return client


@dataclass
class Tally:
    """What a run published and heard back; touched by the publishing thread only."""

    qos: int
    published: int = 0
    acked: int = 0
    nacked: int = 0
    refused: int = 0
    window_full_s: float = 0.0  # time the in-flight window was full
    generate_s: float = 0.0  # time spent building payloads
    sent: dict[int, float] = field(default_factory=dict)  # packet id -> when published
    latencies: array[float] = field(default_factory=lambda: array("d"))
    _refused_rc: set[int] = field(default_factory=set)

    @property
    def in_flight(self) -> int:
        """Published, neither acknowledged nor refused by the broker yet."""
        return self.published - self.acked - self.nacked

    def publish(self, client: mqtt.Client, batch: list[tuple[str, bytes]]) -> None:
        """Publish each message, counting what the client takes and what it refuses."""
        for topic, payload in batch:
            t = time.perf_counter()
            info = client.publish(topic, payload, qos=self.qos)
            # QoS 1 while reconnecting: paho keeps the message and sends it once back
            if info.rc == mqtt.MQTT_ERR_SUCCESS or (self.qos and info.rc == mqtt.MQTT_ERR_NO_CONN):
                self.published += 1
                self.sent[info.mid] = t
            else:
                self.refused += 1
                if info.rc not in self._refused_rc:
                    self._refused_rc.add(info.rc)
                    log.warning("publish refused: %s", mqtt.error_string(info.rc))

    def drain(self, acks: Acks) -> None:
        """Count the acknowledgements paho's thread has handed over."""
        while acks.queue:
            mid, at, failure = acks.queue.popleft()
            started = self.sent.pop(mid, None)
            if failure:
                self.nacked += 1
            else:
                self.acked += 1
                if started is not None and self.qos:
                    self.latencies.append(at - started)

    def close(self, client: mqtt.Client, acks: Acks, timeout_s: float) -> float:
        """Wait up to `timeout_s` for what is in flight, then disconnect; the wait's length."""
        t0 = time.perf_counter()
        deadline = t0 + timeout_s
        self.drain(acks)
        while self.in_flight > 0 and time.perf_counter() < deadline:
            time.sleep(0.01)
            self.drain(acks)
        drain_s = time.perf_counter() - t0
        client.disconnect()
        client.loop_stop()
        self.drain(acks)
        return drain_s
