"""The running gateway: MQTT input, conversion, batching, durable write, then acknowledgement."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from shopfloor.contract.payloads import PayloadError
from shopfloor.contract.topics import dead_letter_topic
from shopfloor.mqtt import connect, make_client

from .batcher import Batch, Batcher
from .convert import Converter
from .settings import GatewaySettings
from .sinks import Sink, SinkRejected, SinkUnavailable, make_sink
from .stats import GatewayStats

log = logging.getLogger(__name__)

DEAD_LETTER_TOPIC = dead_letter_topic("gateway")
_MAX_BACKOFF_S = 30.0


class Gateway:
    """Subscribes at QoS 1 and acknowledges each message only after its points are stored."""

    def __init__(self, settings: GatewaySettings, sink: Sink | None = None) -> None:
        self.settings = settings
        self.stats = GatewayStats()
        self._sink = sink or make_sink(settings.influx)
        self._converter = Converter.from_settings(settings)
        self._batcher = Batcher(
            settings.batch_size,
            settings.flush_interval_s,
            max_messages=max(1, settings.mqtt.receive_maximum // 2),
        )
        self._client = make_client(settings.mqtt, settings.mqtt.client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="gateway-writer", daemon=True)
        self.connected = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._sink.connect()
        self._writer.start()
        connect(self._client, self.settings.mqtt)
        self._client.loop_start()

    def stop(self) -> None:
        """Stop taking messages, write what is pending, acknowledge it, disconnect."""
        self._client.unsubscribe(self._filters())
        self._stop.set()
        self._writer.join(timeout=60)
        self._client.disconnect()
        self._client.loop_stop()
        self._sink.close()
        log.info("gateway stopped: %s", self.stats.snapshot())

    def _filters(self) -> list[str]:
        return self.settings.subscriptions()

    # -- MQTT callbacks (network thread) ----------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        # subscribe on every (re)connect so a new session never leaves us deaf
        client.subscribe([(f, 1) for f in self._filters()])
        self.connected.set()
        log.info("connected to MQTT, subscribed to %s", self._filters())

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", rc)

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self.stats.count("messages")
        try:
            lines = self._converter.convert(msg.topic, bytes(msg.payload), datetime.now(UTC))
        except PayloadError as exc:
            self._dead_letter(msg, exc)
            client.ack(msg.mid, msg.qos)
            return
        except Exception:  # a bug must not kill the client: log it and dead-letter the message
            log.exception("unexpected error converting message on %s", msg.topic)
            self._dead_letter(msg, PayloadError("internal_error", "see gateway log"))
            client.ack(msg.mid, msg.qos)
            return
        self._batcher.add(lines, msg.mid if msg.qos else -1)

    def _dead_letter(self, msg: mqtt.MQTTMessage, exc: PayloadError) -> None:
        self.stats.reject(exc.reason)
        log.warning("rejected message on %s: %s", msg.topic, exc)
        try:
            payload: dict[str, object] = {"payload": msg.payload[:4096].decode()}
        except UnicodeDecodeError:
            payload = {"payload_base64": base64.b64encode(msg.payload[:4096]).decode()}
        body = {
            "topic": msg.topic,
            "reason": exc.reason,
            "detail": exc.detail,
            "received_at": datetime.now(UTC).isoformat(),
            **payload,
        }
        self._client.publish(DEAD_LETTER_TOPIC, json.dumps(body), qos=1)

    # -- writer thread ----------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            stopping = self._stop.is_set()
            batch = self._batcher.take(0 if stopping else self.settings.flush_interval_s)
            if batch is None:
                if stopping:
                    return
                continue
            if not self._write_durably(batch):
                log.warning(
                    "stopping with %d points unwritten; their %d messages stay "
                    "unacknowledged and the broker will deliver them again",
                    len(batch),
                    len(batch.mids),
                )
                return
            for mid in batch.mids:
                if mid >= 0:
                    self._client.ack(mid, 1)

    def _write_durably(self, batch: Batch) -> bool:
        """Write until the store takes it; while it is down the broker keeps the backlog."""
        backoff = 0.5
        while True:
            try:
                self._write_isolating_rejects(batch.lines)
                return True
            except SinkUnavailable as exc:
                if self._stop.is_set():
                    return False
                self.stats.count("write_retries")
                log.warning(
                    "store unavailable (%s); retrying %d points in %.1fs", exc, len(batch), backoff
                )
                time.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)

    def _write_isolating_rejects(self, lines: list[str]) -> None:
        """A rejected batch is halved until the bad points are found; the good ones are kept."""
        if not lines:
            return
        t0 = time.perf_counter()
        try:
            self._sink.write(lines)
        except SinkRejected as exc:
            if len(lines) == 1:
                self.stats.reject("store_rejected")
                log.warning("store rejected point %r: %s", lines[0][:200], exc)
                self._client.publish(
                    DEAD_LETTER_TOPIC,
                    json.dumps({"reason": "store_rejected", "detail": str(exc), "line": lines[0]}),
                    qos=1,
                )
                return
            mid = len(lines) // 2
            self._write_isolating_rejects(lines[:mid])
            self._write_isolating_rejects(lines[mid:])
            return
        self.stats.count("points_written", len(lines))
        self.stats.count("batches_written")
        log.debug("wrote %d points in %.1f ms", len(lines), (time.perf_counter() - t0) * 1000)
