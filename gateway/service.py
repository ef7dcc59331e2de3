"""The running gateway: MQTT input, conversion, batching, durable write, then acknowledgement."""

from __future__ import annotations

import base64
import json
import logging
import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from shopfloor.contract.payloads import PayloadError
from shopfloor.contract.topics import dead_letter_topic, filters_intersect
from shopfloor.mqtt import connect, make_client
from shopfloor.sparkplug.topics import NAMESPACE as SPARKPLUG_NAMESPACE

from .acks import AckSequencer, Token
from .batcher import Batcher
from .convert import Converter
from .inputs import InputFilter
from .mapping.problems import ProblemGate
from .mapping.router import TagMappings
from .metrics import GatewayMetrics
from .outlet import EventOutlet
from .output import DurableOutput
from .settings import GatewaySettings
from .sinks import Sink, make_sink
from .sparkplug.bridge import SparkplugBridge, event_template
from .spool import Spool
from .stats import GatewayStats
from .timestamps import Clock

log = logging.getLogger(__name__)

DEAD_LETTER_TOPIC = dead_letter_topic("gateway")


class Gateway:
    """Subscribes at QoS 1 and acknowledges a message only once its points are durable:
    written to the store, or appended to the on-disk spool that is replayed when it returns."""

    def __init__(self, settings: GatewaySettings, sink: Sink | None = None) -> None:
        self.settings = settings
        self.stats = GatewayStats()
        self._sink = sink or make_sink(settings.influx)
        self._converter = Converter.from_settings(settings)
        self._batcher = Batcher(
            settings.batch_size,
            settings.flush_interval_s,
            max_messages=max(1, settings.mqtt.receive_maximum // (settings.write_concurrency + 1)),
        )
        self.spool = Spool(settings.spool_dir, settings.spool_max_bytes)
        self._client = make_client(settings.mqtt, settings.mqtt.client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._acks = AckSequencer(lambda mid: self._client.ack(mid, 1))
        # a message's points go on at once; its acknowledgement waits for its events' PUBACKs
        # (a second connection for events was slower: two network threads fight for the GIL)
        self._outlet = EventOutlet(self._client, self._batcher.add, self._acks)
        self._client.on_publish = self._outlet.on_publish
        self._sparkplug: SparkplugBridge | None = None
        if settings.sparkplug.enabled:  # before connecting: it sets the host's last will
            self._sparkplug = SparkplugBridge.build(
                settings, self._client, self._batcher.add, self._dead_letter, self._outlet
            )
        self._mapping = self._build_mapping(settings)
        if not settings.sparkplug.enabled:
            for ignored in (s for s in settings.sources if s.source.kind == "sparkplug"):
                log.warning(
                    "machine %s has a Sparkplug source, but SHOPFLOOR_SPARKPLUG__ENABLED is "
                    "off: its metrics are not read",
                    ignored.id,
                )
        self._problems = ProblemGate()
        spb = self._sparkplug.subscriptions() if self._sparkplug else []
        self._filters = spb + settings.subscribed()
        self._input = InputFilter(
            [f.split("/", 2)[2] if f.startswith("$share/") else f for f in self._filters],
            sparkplug=self._sparkplug is not None,
        )
        self._unconfirmed = 0
        self.metrics = GatewayMetrics(
            self.stats,
            {
                "spool_batches": lambda: len(self.spool),
                "spool_bytes": lambda: self.spool.bytes,
                "unacked_messages": lambda: self._acks.pending,
                "connected": lambda: float(self.connected.is_set()),
            },
            sparkplug=self._sparkplug.host.stats if self._sparkplug else None,
        )
        self._stopping = threading.Event()
        self._output = DurableOutput(
            self._sink,
            self.spool,
            self._batcher,
            self._acks,
            self.stats,
            lambda body: self._client.publish(DEAD_LETTER_TOPIC, body, qos=1),
            settings.flush_interval_s,
            settings.write_concurrency,
        )
        self._output.metrics = self.metrics
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed every subscription

    @staticmethod
    def _build_mapping(settings: GatewaySettings) -> TagMappings | None:
        decode = settings.decode
        sources = [s for s in settings.sources if s.source.topic is not None]
        if not sources:
            return None
        clock = Clock(decode.ts_precision, decode.max_ahead_s, decode.max_behind_s)
        template = event_template(settings.templates)
        return TagMappings(sources, template, settings.site, clock, decode.field_types)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._sink.connect()
        if self.settings.metrics_port:
            self.metrics.serve(self.settings.metrics_port, self.settings.metrics_host)
            log.info(
                "metrics on http://%s:%d/metrics",
                self.settings.metrics_host,
                self.settings.metrics_port,
            )
        self._output.start()
        self._outlet.start()
        if self._sparkplug is not None:
            self._sparkplug.start()
        connect(self._client, self.settings.mqtt)
        self._client.loop_start()

    def stop(self) -> None:
        """Stop taking messages, store or spool what is pending, acknowledge it, disconnect.

        The subscription is kept, so the broker queues what arrives while the gateway is away.
        """
        self._stopping.set()
        self._outlet.stop()  # what the broker acknowledged goes on; the rest comes again
        self._output.stop()
        if self._sparkplug is not None:
            self._sparkplug.stop()
        self._client.disconnect()  # queued after the last acknowledgements, so they go first
        self._client.loop_stop()
        self._sink.close()
        log.info(
            "gateway stopped: %s; %d batches left in the spool",
            self.stats.snapshot(),
            len(self.spool),
        )

    # -- MQTT callbacks (network thread) ----------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        self._acks.reconnected()
        self.stats.count("connects")
        # subscribe on every (re)connect, so a new session never leaves the gateway deaf
        self._subscribe(client)
        if self._sparkplug is not None:
            self._sparkplug.connected(client)
        self.connected.set()
        log.info("connected to MQTT, subscribed to %s", self._filters)

    def _subscribe(self, client: mqtt.Client) -> None:
        """One SUBSCRIBE per filter, each with its subscription identifier over MQTT 5, and
        retained messages only for a new subscription (not again on every reconnect)."""
        if self.settings.mqtt.protocol != "5":
            self._unconfirmed = 1
            client.subscribe([(f, 1) for f in self._filters])
            return
        # identifiers only where two filters overlap: paho reads a PUBLISH's properties slowly
        plain = self._input.filters
        overlap = any(filters_intersect(a, b) for i, a in enumerate(plain) for b in plain[i + 1 :])
        self._unconfirmed = len(self._filters)
        for i, topic_filter in enumerate(self._filters):
            props = None
            if overlap:
                props = Properties(PacketTypes.SUBSCRIBE)  # type: ignore[no-untyped-call]
                props.SubscriptionIdentifier = i + 1
            options = SubscribeOptions(qos=1, retainHandling=1)
            client.subscribe(topic_filter, options=options, properties=props)

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _mid: int, rcs: list[ReasonCode], _p: object = None
    ) -> None:
        refused = [str(rc) for rc in rcs if rc.is_failure]
        if refused:
            log.error("broker refused subscriptions: %s", refused)
            return
        self._unconfirmed -= 1
        if self._unconfirmed <= 0:
            self.subscribed.set()
            log.info("subscriptions confirmed by the broker")

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if self._sparkplug is not None:
            self._sparkplug.disconnected()
        if not self._stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", rc)

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return  # not acknowledged: the broker delivers it again to the next session
        self.stats.count("messages")
        token = self._acks.received(msg.mid) if msg.qos else None
        raw = bytes(msg.payload)
        ids = getattr(msg.properties, "SubscriptionIdentifier", None) if msg.properties else None
        if not self._input.take(msg.topic, raw, bool(msg.retain), ids):
            self.stats.count("ignored")  # a second copy, our own topic or a retained repeat
            self._batcher.add([], token)
            return
        if self._sparkplug is not None and msg.topic.startswith(SPARKPLUG_NAMESPACE + "/"):
            self._sparkplug.on_message(msg.topic, raw, token)
            return
        if self._mapping is not None and self._mapped(msg.topic, raw, bool(msg.retain), token):
            return
        try:
            lines = self._converter.convert(msg.topic, raw, datetime.now(UTC))
        except PayloadError as exc:
            lines = []
            self._dead_letter(msg.topic, bytes(msg.payload), exc)
        except Exception:  # a bug must not kill the client: log it and dead-letter the message
            lines = []
            log.exception("unexpected error converting message on %s", msg.topic)
            internal = PayloadError("internal_error", "see gateway log")
            self._dead_letter(msg.topic, bytes(msg.payload), internal)
        # every message goes through the batcher, so acknowledgements keep receive order
        self._batcher.add(lines, token)

    def _mapped(self, topic: str, raw: bytes, retained: bool, token: Token | None) -> bool:
        """A message of a machine source: its points, and its events first; False if none."""
        assert self._mapping is not None
        try:
            mapped = self._mapping.convert(topic, raw, datetime.now(UTC), retained)
        except Exception:  # a bug must not kill the client: log it and dead-letter the message
            log.exception("unexpected error mapping message on %s", topic)
            self._dead_letter(topic, raw, PayloadError("internal_error", "see gateway log"))
            self._batcher.add([], token)
            return True
        if mapped is None:
            return False
        for machine, problem in mapped.problems:
            if self._problems.first(machine, problem):
                self._dead_letter(topic, raw, problem)
            else:
                self.stats.reject(problem.reason)
        self.stats.count("mapped_events", len(mapped.events))
        self._outlet.send(mapped.events, mapped.lines, token)
        return True

    def _dead_letter(self, topic: str, raw: bytes, exc: PayloadError) -> None:
        self.stats.reject(exc.reason)
        log.warning("rejected message on %s: %s", topic, exc)
        try:
            payload: dict[str, object] = {"payload": raw[:4096].decode()}
        except UnicodeDecodeError:
            payload = {"payload_base64": base64.b64encode(raw[:4096]).decode()}
        body = {
            "topic": topic,
            "reason": exc.reason,
            "detail": exc.detail,
            "received_at": datetime.now(UTC).isoformat(),
            **payload,
        }
        self._client.publish(DEAD_LETTER_TOPIC, json.dumps(body), qos=1)
