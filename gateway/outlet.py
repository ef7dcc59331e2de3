"""Events made from a message go to the broker; the message is acknowledged only once they
are acknowledged by the broker too (and its points are durable)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import paho.mqtt.client as mqtt

from .acks import AckSequencer, Token

log = logging.getLogger(__name__)

# hands a message's points (maybe none) and its acknowledgement token to the batcher
Deliver = Callable[[list[str], Token | None], None]
_TICK_S = 0.02


class Publish(NamedTuple):
    """A message the gateway sends: a mapped event, a Sparkplug rebirth request."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


@dataclass(eq=False)
class _Pending:
    infos: list[mqtt.MQTTMessageInfo]
    token: Token
    left: set[int]  # the events' packet ids still unacknowledged


class EventOutlet:
    """A message's points go on to the batcher at once, while its acknowledgement is held until
    the broker has acknowledged every event made from it: a crash before that loses no event
    (the message comes again and makes the same events, with the same ids), and the points
    do not wait for a PUBACK that is queued behind the backlog being read."""

    def __init__(
        self, client: mqtt.Client, deliver: Deliver, acks: AckSequencer | None = None
    ) -> None:
        self._client = client
        self._deliver = deliver
        self._acks = acks
        self._lock = threading.Lock()
        self._pending: set[_Pending] = set()
        self._by_mid: dict[int, _Pending] = {}
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="event-outlet", daemon=True)

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join(timeout=5)
        self.release()

    @property
    def waiting(self) -> int:
        """Messages whose events the broker has not yet acknowledged."""
        with self._lock:
            return len(self._pending)

    def send(self, events: Sequence[Publish], lines: list[str], token: Token | None) -> None:
        """Publish the events, hand the points on; hold the acknowledgement until they are in."""
        infos = [
            self._client.publish(e.topic, e.payload, qos=e.qos, retain=e.retain) for e in events
        ]
        if infos and token is not None and self._acks is not None:
            self._acks.hold(token)
            entry = _Pending(infos, token, {i.mid for i in infos})
            with self._lock:
                self._pending.add(entry)
                for mid in entry.left:
                    self._by_mid[mid] = entry
        self._deliver(lines, token)

    def on_publish(self, _c: object, _u: object, mid: int, *_rest: object) -> None:
        """paho's on_publish: a PUBACK came; let go what waited for it at once (a ticker
        would leave the broker's in-flight window full for up to a tick)."""
        with self._lock:
            entry = self._by_mid.pop(mid, None)
            if entry is None:
                return
            entry.left.discard(mid)
            if entry.left:
                return
            self._pending.discard(entry)
        if self._acks is not None:
            try:
                self._acks.unhold([entry.token])
            except Exception:  # never into paho's network thread
                log.exception("letting an acknowledgement go failed")

    def release(self) -> None:
        """Let go the acknowledgements of messages whose events the broker acknowledged that
        `on_publish` did not see (a PUBACK that came before its message was noted here)."""
        with self._lock:
            done = [p for p in self._pending if all(_acknowledged(i) for i in p.infos)]
            for entry in done:
                self._pending.discard(entry)
                for mid in entry.left:
                    if self._by_mid.get(mid) is entry:
                        del self._by_mid[mid]
        if done and self._acks is not None:
            self._acks.unhold([p.token for p in done])

    def _tick_loop(self) -> None:
        while not self._stop.wait(_TICK_S):
            try:
                self.release()
            except Exception:
                log.exception("event outlet failed; continuing")


def _acknowledged(info: mqtt.MQTTMessageInfo) -> bool:
    """True once the broker acknowledged the message. A QoS 1 message published while the
    connection was down is queued by paho and sent after the reconnect, but its info keeps the
    publish-time error and `is_published()` raises for ever: its completion flag says it then."""
    if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_AGAIN):
        return info.is_published()
    if info.rc == mqtt.MQTT_ERR_NO_CONN:
        return bool(info._published)  # paho 2.x: set when the PUBACK arrives
    return False  # never queued: the message stays unacknowledged and comes again
