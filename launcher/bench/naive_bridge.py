"""The baseline: MQTT to InfluxDB as plants often write it, one synchronous write per message."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from paho.mqtt.enums import CallbackAPIVersion

from .broker import Broker
from .stores import DATABASE, TOKEN

Writer = Callable[[str, bytes], None]


def _tags(topic: str) -> dict[str, str]:
    _, site, line, machine, _kind = topic.split("/")
    return {"site": site, "line": line, "machine": machine}


def influx1_writer(url: str) -> Writer:
    """POST each message's points to InfluxDB 1.x `/write` (a kept-alive connection)."""
    http = httpx.Client(base_url=url, timeout=10)

    def write(topic: str, payload: bytes) -> None:
        tags = ",".join(f"{k}={v}" for k, v in _tags(topic).items())
        body = json.loads(payload)
        fields = ",".join(f"{k}={float(v)}" for k, v in body["values"].items())
        line = f"telemetry,{tags} {fields} {body['ts']}"
        http.post("/write", params={"db": DATABASE, "precision": "ms"}, content=line)
        # a naive bridge does not check the answer either: that is part of the baseline

    return write


def influx2_writer(url: str) -> Writer:
    """Write each message as a Point through influxdb-client's SYNCHRONOUS write API."""
    api = InfluxDBClient(url=url, token=TOKEN, org=DATABASE).write_api(write_options=SYNCHRONOUS)

    def write(topic: str, payload: bytes) -> None:
        body = json.loads(payload)
        point: Any = Point("telemetry")  # type: ignore[no-untyped-call]  # Point has no hints
        point = point.time(body["ts"], WritePrecision.MS)
        for key, value in _tags(topic).items():
            point = point.tag(key, value)
        for key, value in body["values"].items():
            point = point.field(key, float(value))
        api.write(bucket=DATABASE, org=DATABASE, record=point)

    return write


class NaiveBridge:
    """A paho 2.x client with a persistent session whose callback writes each message."""

    def __init__(self, broker: Broker, client_id: str, topic_filter: str, write: Writer) -> None:
        self._broker, self._filter, self._write = broker, topic_filter, write
        # paho acknowledges a QoS 1 message when on_message returns: after the write
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        self._client.on_connect = self._on_connect
        self._subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._done = threading.Event()
        self._expected = 0
        self.received = 0

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe(self._filter, qos=1)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self._write(msg.topic, bytes(msg.payload))
        self.received += 1
        if self.received >= self._expected:
            self._done.set()

    def run(self, expected: int, timeout_s: float) -> float:
        """Connect, write until `expected` messages are done (0: just subscribe); return seconds."""
        self._expected, self.received = expected, 0
        self._subscribed.clear()
        self._done.clear()
        t0 = time.perf_counter()
        self._client.connect(self._broker.host, self._broker.port)
        self._client.loop_start()
        try:
            if not self._subscribed.wait(10):
                raise TimeoutError("naive bridge: no SUBACK")
            if expected and not self._done.wait(timeout_s):
                raise TimeoutError(f"naive bridge: {self.received} of {expected} messages")
            return time.perf_counter() - t0
        finally:
            self._client.disconnect()
            self._client.loop_stop()
