"""Events made from a message go to the broker first; its points follow once they are acked."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import paho.mqtt.client as mqtt

from .acks import Token

log = logging.getLogger(__name__)

Deliver = Callable[[list[str], Token | None], None]
_TICK_S = 0.05


class Message(Protocol):
    """An event message to publish."""

    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def qos(self) -> int: ...
    @property
    def retain(self) -> bool: ...


@dataclass
class _Pending:
    infos: list[mqtt.MQTTMessageInfo]
    lines: list[str]
    token: Token | None


class EventOutlet:
    """A message's points reach the batcher (and so its acknowledgement) only once every event
    made from it is acknowledged by the broker: a crash between the two loses no event."""

    def __init__(self, client: mqtt.Client, deliver: Deliver) -> None:
        self._client = client
        self._deliver = deliver
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
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
        return len(self._pending)

    def send(self, events: Sequence[Message], lines: list[str], token: Token | None) -> None:
        """Publish the events; hand the points on now if there are none, else once acked."""
        with self._lock:
            infos = [
                self._client.publish(e.topic, e.payload, qos=e.qos, retain=e.retain) for e in events
            ]
            if infos or self._pending:  # keep the order of messages behind any still waiting
                self._pending.append(_Pending(infos, lines, token))
                return
        self._deliver(lines, token)

    def release(self) -> None:
        """Hand over, in order, the points of messages whose events are all acknowledged."""
        with self._lock:
            while self._pending and all(i.is_published() for i in self._pending[0].infos):
                done = self._pending.pop(0)
                self._deliver(done.lines, done.token)

    def _tick_loop(self) -> None:
        while not self._stop.wait(_TICK_S):
            try:
                self.release()
            except Exception:
                log.exception("event outlet failed; continuing")
