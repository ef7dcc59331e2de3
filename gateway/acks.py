"""Releases MQTT acknowledgements in the order the messages arrived, once each is durable."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

# (connection generation, MQTT packet id): a packet id means nothing after a reconnect
Token = tuple[int, int]


class AckSequencer:
    """MQTT requires PUBACKs in receive order; batches may become durable out of order."""

    def __init__(self, send_ack: Callable[[int], object]) -> None:
        self._send_ack = send_ack
        self._order: deque[Token] = deque()
        self._done: set[Token] = set()
        self._held: set[Token] = set()  # durable is not enough yet (events still unacknowledged)
        self._generation = 0
        self._lock = threading.Lock()

    def received(self, mid: int) -> Token:
        """Note a QoS 1 message; its token goes with its points."""
        with self._lock:
            token = (self._generation, mid)
            self._order.append(token)
            return token

    def durable(self, tokens: Iterable[Token]) -> int:
        """Mark messages durable; acknowledge every leading durable one; returns how many."""
        sent = 0
        with self._lock:
            self._done.update(t for t in tokens if t[0] == self._generation)
            sent = self._send_leading()
        return sent

    def hold(self, token: Token) -> None:
        """Keep a message from being acknowledged, even once durable, until `unhold`."""
        with self._lock:
            if token[0] == self._generation:
                self._held.add(token)

    def unhold(self, tokens: Iterable[Token]) -> int:
        """Let held messages be acknowledged once durable; returns how many were sent now."""
        with self._lock:
            self._held.difference_update(tokens)
            return self._send_leading()

    def _send_leading(self) -> int:
        sent = 0
        while self._order and self._order[0] in self._done and self._order[0] not in self._held:
            token = self._order.popleft()
            self._done.discard(token)
            # paho sends in call order: ack inside the lock to keep the order on the wire
            self._send_ack(token[1])
            sent += 1
        return sent

    def reconnected(self) -> None:
        """A new connection: the broker redelivers whatever the old one did not acknowledge."""
        with self._lock:
            self._generation += 1
            self._order.clear()
            self._done.clear()
            self._held.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._order)
