"""The running gateway, wired: MQTT input -> routing and conversion -> batcher -> durable
output (store or spool) -> acknowledgement; dead letters for what is rejected."""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt

from shopfloor.mqtt import connect, make_client

from .acks import AckSequencer
from .batcher import Batcher
from .convert import Converter
from .dead_letters import DEAD_LETTER_TOPIC, DeadLetters
from .mapping.router import TagMappings
from .message_router import MessageRouter
from .metrics import GatewayMetrics
from .mqtt_input import MqttInput
from .outlet import EventOutlet
from .output import DurableOutput
from .settings import GatewaySettings
from .sinks import Sink, make_sink
from .sparkplug.bridge import SparkplugBridge, event_template
from .spool import Spool
from .stats import GatewayStats
from .timestamps import Clock

log = logging.getLogger(__name__)


class Gateway:
    """Subscribes at QoS 1 and acknowledges a message only once its points are durable:
    written to the store, or appended to the on-disk spool that is replayed when it returns."""

    def __init__(self, settings: GatewaySettings, sink: Sink | None = None) -> None:
        self.settings = settings
        self.stats = GatewayStats()
        self._sink = sink or make_sink(settings.influx)
        self._batcher = Batcher(
            settings.batch_size,
            settings.flush_interval_s,
            max_messages=max(1, settings.mqtt.receive_maximum // (settings.write_concurrency + 1)),
        )
        self.spool = Spool(settings.spool_dir, settings.spool_max_bytes)
        self._client = make_client(settings.mqtt, settings.mqtt.client_id, manual_ack=True)
        self._acks = AckSequencer(lambda mid: self._client.ack(mid, 1))
        self._dead_letters = DeadLetters(
            lambda body: self._client.publish(DEAD_LETTER_TOPIC, body, qos=1), self.stats
        )
        # a message's points go on at once; its acknowledgement waits for its events' PUBACKs
        # (a second connection for events was slower: two network threads fight for the GIL)
        self._outlet = EventOutlet(self._client, self._batcher.add, self._acks)
        self._client.on_publish = self._outlet.on_publish
        clock = settings.decode.clock()
        self._sparkplug = self._build_sparkplug(settings, clock, self._client)
        router = MessageRouter(
            Converter.from_settings(settings, clock),
            self._batcher.add,
            self._outlet,
            self._dead_letters,
            self.stats,
            _build_mapping(settings, clock),
            self._sparkplug,
        )
        spb = self._sparkplug.subscriptions() if self._sparkplug else []
        self._input = MqttInput(
            self._client,
            settings.mqtt.protocol,
            spb + settings.subscribed(),
            self._acks,
            router,
            self.stats,
            self._sparkplug,
        )
        self.connected = self._input.connected
        self.subscribed = self._input.subscribed  # the broker confirmed every subscription
        self.metrics = self._build_metrics()
        self._output = DurableOutput(
            self._sink,
            self.spool,
            self._batcher,
            self._acks,
            self.stats,
            self._dead_letters,
            settings.flush_interval_s,
            settings.write_concurrency,
        )
        self._output.metrics = self.metrics

    def _build_sparkplug(
        self, settings: GatewaySettings, clock: Clock, client: mqtt.Client
    ) -> SparkplugBridge | None:
        """The Sparkplug host, when enabled; built before connecting: it sets the last will."""
        if settings.sparkplug.enabled:
            deliver, dead = self._batcher.add, self._dead_letters.message
            return SparkplugBridge.build(settings, clock, client, deliver, dead, self._outlet)
        for ignored in (s for s in settings.sources if s.source.kind == "sparkplug"):
            log.warning(
                "machine %s has a Sparkplug source, but SHOPFLOOR_SPARKPLUG__ENABLED is "
                "off: its metrics are not read",
                ignored.id,
            )
        return None

    def _build_metrics(self) -> GatewayMetrics:
        return GatewayMetrics(
            self.stats,
            {
                "spool_batches": lambda: len(self.spool),
                "spool_bytes": lambda: self.spool.bytes,
                "unacked_messages": lambda: self._acks.pending,
                "connected": lambda: float(self.connected.is_set()),
            },
            sparkplug=self._sparkplug.host.stats if self._sparkplug else None,
        )

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Connect the store, serve metrics, start the output, then connect to MQTT."""
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
        self._input.stop()
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


def _build_mapping(settings: GatewaySettings, clock: Clock) -> TagMappings | None:
    """The machine sources read from topics (Sparkplug ones are the host's), if any."""
    sources = [s for s in settings.sources if s.source.topic is not None]
    if not sources:
        return None
    template = event_template(settings.templates)
    return TagMappings(sources, template, settings.site, clock, settings.decode.field_types)
