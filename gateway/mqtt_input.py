"""The gateway's input: MQTT subscriptions on every connect, each message taken once and noted
for its acknowledgement, then handed to the router."""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from shopfloor.contract.topics import filters_intersect

from .acks import AckSequencer
from .input_filter import InputFilter
from .message_router import MessageRouter
from .sparkplug.bridge import SparkplugBridge
from .stats import GatewayStats

log = logging.getLogger(__name__)


class MqttInput:
    """Subscribes at QoS 1 with manual acknowledgement: a message's token goes with its points,
    and the acknowledgement sequencer sends the PUBACK once they are durable."""

    def __init__(
        self,
        client: mqtt.Client,
        protocol: str,
        filters: list[str],
        acks: AckSequencer,
        router: MessageRouter,
        stats: GatewayStats,
        sparkplug: SparkplugBridge | None = None,
    ) -> None:
        self._protocol = protocol
        self.filters = filters  # as subscribed, `$share/<group>/` included
        self._acks = acks
        self._router = router
        self._stats = stats
        self._sparkplug = sparkplug
        self._filter = InputFilter(
            [f.split("/", 2)[2] if f.startswith("$share/") else f for f in filters],
            sparkplug=sparkplug is not None,
        )
        self._unconfirmed = 0
        self._stopping = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed every subscription
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe

    def stop(self) -> None:
        """Take no more messages: what comes now stays unacknowledged and comes again."""
        self._stopping.set()

    # -- MQTT callbacks (network thread) ----------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object = None
    ) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        self._acks.reconnected()
        self._stats.count("connects")
        # subscribe on every (re)connect, so a new session never leaves the gateway deaf
        self._subscribe(client)
        if self._sparkplug is not None:
            self._sparkplug.connected(client)
        self.connected.set()
        log.info("connected to MQTT, subscribed to %s", self.filters)

    def _subscribe(self, client: mqtt.Client) -> None:
        """One SUBSCRIBE per filter, each with its subscription identifier over MQTT 5, and
        retained messages only for a new subscription (not again on every reconnect)."""
        if self._protocol != "5":
            self._unconfirmed = 1
            client.subscribe([(f, 1) for f in self.filters])
            return
        # identifiers only where two filters overlap: paho reads a PUBLISH's properties slowly
        plain = self._filter.filters
        overlap = any(filters_intersect(a, b) for i, a in enumerate(plain) for b in plain[i + 1 :])
        self._unconfirmed = len(self.filters)
        for i, topic_filter in enumerate(self.filters):
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

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return  # not acknowledged: the broker delivers it again to the next session
        self._stats.count("messages")
        token = self._acks.received(msg.mid) if msg.qos else None
        raw = bytes(msg.payload)
        ids = getattr(msg.properties, "SubscriptionIdentifier", None) if msg.properties else None
        if not self._filter.take(msg.topic, raw, bool(msg.retain), ids):
            self._stats.count("ignored")  # a second copy, our own topic or a retained repeat
            self._router.skip(token)
            return
        self._router.route(msg.topic, raw, bool(msg.retain), token)
