"""A test subscriber that records the JSON messages published on a filter, with their topic."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.services import Mosquitto


@contextmanager
def watching(mosquitto: Mosquitto, topic_filter: str) -> Iterator[list[dict[str, Any]]]:
    """Each message as `{"topic": ..., **payload}`, in arrival order, once subscribed."""
    received: list[dict[str, Any]] = []
    subscribed = threading.Event()
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2)
    watcher.on_connect = lambda c, *_: c.subscribe(topic_filter, qos=1)
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.on_message = lambda _c, _u, m: received.append(
        {"topic": m.topic, **json.loads(m.payload)}
    )
    watcher.connect(mosquitto.host, mosquitto.port)
    watcher.loop_start()
    try:
        assert subscribed.wait(10), "the test subscriber did not subscribe"
        yield received
    finally:
        watcher.disconnect()
        watcher.loop_stop()
