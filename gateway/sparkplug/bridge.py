"""Runs the Sparkplug host on the gateway's MQTT client: STATE, events, rebirths, reorder timer."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import paho.mqtt.client as mqtt

from shopfloor.contract.payloads import PayloadError
from shopfloor.contract.topics import EVENT, TopicTemplate
from shopfloor.sparkplug.topics import host_subscriptions, state_topic

from ..acks import Token
from ..mapping.problems import ProblemGate
from ..outlet import Deliver, EventOutlet
from ..timestamps import Clock
from .host import SparkplugHost
from .settings import SparkplugSettings
from .steps import Step

if TYPE_CHECKING:
    from ..settings import GatewaySettings

log = logging.getLogger(__name__)

DeadLetter = Callable[[str, bytes, PayloadError], None]
_TICK_S = 0.05


def event_template(templates: list[TopicTemplate]) -> TopicTemplate:
    """The first topic template that carries events: where mapped metrics are republished."""
    for template in templates:
        if EVENT in template.kinds:
            return template
    raise ValueError("Sparkplug needs a topic template that carries events")


class SparkplugBridge:
    """A message's points reach the batcher (and so its acknowledgement) only once the
    events made from it are acknowledged by the broker: no event is lost in a crash."""

    def __init__(
        self,
        settings: SparkplugSettings,
        host: SparkplugHost,
        client: mqtt.Client,
        deliver: Deliver,
        dead_letter: DeadLetter,
        outlet: EventOutlet | None = None,
    ) -> None:
        self.settings = settings
        self.host = host
        self._client = client
        self._deliver = deliver
        self._dead_letter = dead_letter
        self._lock = threading.Lock()
        self._outlet = outlet or EventOutlet(client, deliver)
        self._problems = ProblemGate()
        self._own_outlet = outlet is None
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="sparkplug-tick", daemon=True)
        self._state_topic = state_topic(settings.host_id)
        self._set_will()

    @classmethod
    def build(
        cls,
        settings: GatewaySettings,
        clock: Clock,
        client: mqtt.Client,
        deliver: Deliver,
        dead: DeadLetter,
        outlet: EventOutlet | None = None,
    ) -> SparkplugBridge:
        """The bridge and its host for the gateway's settings (times checked by `clock`)."""
        decode = settings.decode
        host = SparkplugHost(
            settings.sparkplug,
            event_template(settings.templates),
            clock,
            decode.field_types,
            decode.separator,
            settings.max_payload_bytes,
            settings.sources,
        )
        return cls(settings.sparkplug, host, client, deliver, dead, outlet)

    def _state(self, online: bool) -> str:
        return json.dumps({"online": online, "timestamp": self._state_ms})

    def _set_will(self) -> None:
        # Sparkplug 3.0: the will and the birth of one connection carry the same timestamp
        self._state_ms = int(datetime.now(UTC).timestamp() * 1000)
        self._client.will_set(self._state_topic, self._state(False), qos=1, retain=True)

    # -- called by the gateway ----------------------------------------------------------------
    def start(self) -> None:
        if self._own_outlet:
            self._outlet.start()
        self._ticker.start()

    def subscriptions(self) -> list[str]:
        """Never under $share: one host must see every message of a node to check its seq."""
        return host_subscriptions(self.settings.group)

    def connected(self, client: mqtt.Client) -> None:
        """Declare the host online (retained); the gateway subscribed to `subscriptions()`
        just before, so edge nodes may publish."""
        client.publish(self._state_topic, self._state(True), qos=1, retain=True)
        log.info("Sparkplug host %s online: %s", self.settings.host_id, self.subscriptions())

    def disconnected(self) -> None:
        self._set_will()

    def stop(self) -> None:
        """Stop the timer and declare the host offline (a clean disconnect sends no will)."""
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join(timeout=5)
        if self._own_outlet:
            self._outlet.stop()
        self._set_will()
        self._client.publish(self._state_topic, self._state(False), qos=1, retain=True)

    def on_message(self, topic: str, payload: bytes, token: Token | None) -> None:
        """Handle one Sparkplug message (network thread)."""
        try:
            with self._lock:
                self._dispatch(self.host.receive(topic, payload, datetime.now(UTC), token))
        except Exception:  # a bug must not kill the client nor hold the acknowledgements back
            log.exception("unexpected error on Sparkplug message %s", topic)
            self.host.stats.count("dead_letters", "internal_error")
            self._dead_letter(topic, payload, PayloadError("internal_error", "see gateway log"))
            self._deliver([], token)

    # -- internals ------------------------------------------------------------------------------
    def _dispatch(self, step: Step) -> None:
        for handled in step.handled:
            if handled.error is not None:
                self.host.stats.count("dead_letters", handled.error.reason)
                self._dead_letter(handled.topic, handled.raw, handled.error)
            for note in handled.notes:  # one metric's problem: told once per cause
                self.host.stats.count("dead_letters", note.reason)
                if self._problems.first(_device_of(handled.topic), note):
                    self._dead_letter(handled.topic, handled.raw, note)
            token = cast("Token | None", handled.tag)
            self._outlet.send(handled.events, handled.lines, token)
        for command in step.commands:
            log.info("requesting a rebirth: %s", command.topic)
            self._client.publish(command.topic, command.payload, qos=command.qos)

    def _tick_loop(self) -> None:
        while not self._stop.wait(_TICK_S):
            try:
                with self._lock:
                    self._dispatch(self.host.tick(datetime.now(UTC)))
            except Exception:
                log.exception("Sparkplug timer failed; continuing")


def _device_of(topic: str) -> str:
    """`group/node[/device]` of a Sparkplug topic: whose problems are told once."""
    levels = topic.split("/")
    return "/".join([levels[1], *levels[3:]]) if len(levels) > 3 else topic
