"""The tracker's received events not yet settled, and their acknowledgements: a PUBACK goes out
only on the connection its message came on."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable

import paho.mqtt.client as mqtt

from .event_messages import Incoming


class Unsettled:
    """Messages received and not yet applied, rejected or parked, by arrival number (oldest
    first), and which connection is the current one."""

    def __init__(self, client: mqtt.Client) -> None:
        self._client = client
        # when each message not yet settled arrived (monotonic), by arrival number
        self._since: dict[int, float] = {}
        self._lock = threading.Lock()
        self._arrival = itertools.count(1)
        self._ack_lock = threading.Lock()
        self.connection = 0  # which connection messages arrive on now

    def reconnected(self) -> None:
        """A new connection: messages of the last one still queued are not acknowledged any
        more, the broker sends them again on this one, where their packet ids may be reused."""
        with self._ack_lock:
            self.connection += 1

    def arrived(self) -> int:
        """Note a message's arrival, before it can be taken off the queue; its arrival number."""
        with self._lock:
            seq = next(self._arrival)
            self._since[seq] = time.monotonic()
        return seq

    def ack(self, batch: Iterable[Incoming]) -> None:
        """Acknowledge what came on the current connection, then settle the whole batch."""
        settled = list(batch)
        with self._ack_lock:
            for message in settled:
                if message.connection == self.connection:
                    self._client.ack(message.mid, message.qos)
        self.settle(settled)

    def settle(self, batch: Iterable[Incoming]) -> None:
        """Forget these messages, acknowledged or left to the broker to send again."""
        with self._lock:
            for message in batch:
                self._since.pop(message.seq, None)

    def __len__(self) -> int:
        return len(self._since)

    def oldest_s(self) -> float:
        """Age of the oldest message not yet settled; 0 when there is none."""
        with self._lock:
            oldest = next(iter(self._since.values()), None)
        return 0.0 if oldest is None else max(time.monotonic() - oldest, 0.0)
