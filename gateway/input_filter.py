"""Which received messages are input: one copy of each, never our own topics or repeats."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from paho.mqtt.client import topic_matches_sub

from shopfloor.contract.topics import is_own_topic
from shopfloor.sparkplug.topics import NAMESPACE as SPARKPLUG_NAMESPACE

_RETAINED_LIMIT = 200_000
_ROUTE_LIMIT = 65_536


class InputFilter:
    """Subscriptions each get an MQTT 5 subscription identifier (1, 2, ... in `filters` order);
    a message matching several of them comes once per subscription, and only the copy of the
    first matching filter is taken. Over MQTT 3.1.1 the broker sends one copy and none is
    dropped. A retained message whose payload is the topic's last one (sent again on
    resubscribe) is a repeat, as is any message on a topic the project publishes itself."""

    def __init__(self, filters: list[str], sparkplug: bool) -> None:
        self.filters = filters
        self._sparkplug = sparkplug
        self._last: OrderedDict[str, bytes] = OrderedDict()
        # topic -> (the first matching filter's id, or 0; whether the topic is never input)
        self._routes: dict[str, tuple[int, bool]] = {}

    def take(self, topic: str, payload: bytes, retained: bool, sub_ids: list[int] | None) -> bool:
        """True when the message is input to convert; False: acknowledge it and move on."""
        route = self._routes.get(topic) or self._route(topic)
        if route[1] or (sub_ids and route[0] and route[0] not in sub_ids):
            return False
        return not self._repeated(topic, payload, retained)

    def _route(self, topic: str) -> tuple[int, bool]:
        first = next((i + 1 for i, f in enumerate(self.filters) if topic_matches_sub(f, topic)), 0)
        if topic.startswith(SPARKPLUG_NAMESPACE + "/"):
            skip = not self._sparkplug
        else:
            skip = is_own_topic(topic)
        if len(self._routes) >= _ROUTE_LIMIT:
            self._routes.clear()
        self._routes[topic] = (first, skip)
        return first, skip

    def _repeated(self, topic: str, payload: bytes, retained: bool) -> bool:
        # only topics seen retained are followed: their live values are what a resubscribe
        # sends again; the hot path of other topics is one dictionary lookup
        if not retained and topic not in self._last:
            return False
        digest = hashlib.blake2b(payload, digest_size=16).digest()
        last = self._last.pop(topic, None)
        self._last[topic] = digest
        if len(self._last) > _RETAINED_LIMIT:
            self._last.popitem(last=False)
        return retained and last == digest
