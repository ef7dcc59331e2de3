"""Shared by gateway tests on a real broker: a bounded wait, an in-memory sink, a watcher."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.service import Gateway
from gateway.settings import GatewaySettings
from shopfloor.mqtt import MqttSettings
from tests.services import Mosquitto
from tests.waiting import wait_for as wait_for  # the gateway tests import it from here


class MemorySink:
    """Keeps written points in memory (the store paths have their own tests)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def connect(self) -> None:
        return None

    def write(self, lines: list[str]) -> None:
        with self._lock:
            self.lines.extend(lines)

    def close(self) -> None:
        return None

    def having(self, text: str) -> list[str]:
        with self._lock:
            return [line for line in self.lines if text in line]


class Watcher:
    """Records every message on some topic filters of a real broker."""

    def __init__(self, broker: Mosquitto, *filters: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.messages.append(
            (m.topic, bytes(m.payload), bool(m.retain))
        )
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe([(f, 1) for f in filters])
        assert subscribed.wait(10), "the broker did not confirm the watcher's subscription"

    def on(self, prefix: str) -> list[bytes]:
        return [payload for topic, payload, _r in list(self.messages) if topic.startswith(prefix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Gateways:
    """Gateways started in-process on a test broker, each stopped at the end if still up."""

    def __init__(self, broker: Mosquitto, spool_root: Path) -> None:
        self._broker, self._spool_root = broker, spool_root
        self.started: list[Gateway] = []

    def start(
        self, sink: MemorySink, client_id: str, protocol: str = "5", **settings: Any
    ) -> Gateway:
        """A gateway with its own spool, a quick flush, subscribed before it is returned."""
        mqtt_settings = MqttSettings(
            host=self._broker.host, port=self._broker.port, client_id=client_id, protocol=protocol
        )
        gateway = Gateway(
            GatewaySettings(
                mqtt=mqtt_settings,
                spool_dir=self._spool_root / f"spool-{client_id}",
                flush_interval_s=0.1,
                **settings,
            ),
            sink=sink,
        )
        gateway.start()
        assert gateway.subscribed.wait(10), "the gateway's subscriptions were not confirmed"
        self.started.append(gateway)
        return gateway

    def stop_all(self) -> None:
        for gateway in self.started:
            if gateway.connected.is_set():
                gateway.stop()
