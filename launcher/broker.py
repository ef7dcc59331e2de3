"""An embedded MQTT broker (amqtt, MQTT 3.1.1) for the demo, run on its own event-loop thread."""

from __future__ import annotations

import asyncio
import logging
import threading

from amqtt.broker import Broker

from .services.processes import free_port

log = logging.getLogger(__name__)


class ProbeFilter(logging.Filter):
    """Drops amqtt's lines about a connection closed before it sent a byte.

    That is the reachability probe (shopfloor.mqtt.unreachable: TCP connect, then close) every
    part makes before it connects; amqtt calls it an ERROR ("No data from ... fixed header"),
    then warns "Failed to initialize client session". A client that sends anything is logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "No data" not in record.getMessage()


_PROBES = ProbeFilter()


class EmbeddedBroker:
    """Starts amqtt on 127.0.0.1:`port` in a background thread; `stop()` shuts it down."""

    def __init__(self, port: int = 0) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mqtt-broker", daemon=True
        )
        self._broker: object | None = None

    def start(self) -> None:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        logging.getLogger("amqtt.broker").addFilter(_PROBES)  # once: a filter is added only once
        self._thread.start()

        async def _start() -> object:
            broker = Broker(config)
            await broker.start()
            return broker

        self._broker = asyncio.run_coroutine_threadsafe(_start(), self._loop).result(timeout=30)
        for noisy in ("amqtt", "transitions"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        log.info("embedded MQTT broker on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._broker is not None:
            broker = self._broker
            asyncio.run_coroutine_threadsafe(broker.shutdown(), self._loop).result(timeout=30)  # type: ignore[attr-defined]
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
