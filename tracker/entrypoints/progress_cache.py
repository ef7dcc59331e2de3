"""Recent progress answers per order, so a customer's poll with no news needs no database.

An entry goes as soon as a commit touches its order (the change feed: machine events, order
changes, token rotation or revocation) or a new plan is made; otherwise it lives `ttl_s`,
which bounds how stale the clock-driven part of an answer (a running order's ETA) can be.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from tracker.domain.planning.model import Plan
from tracker.service_layer.bus import Changes


@dataclass(frozen=True)
class Cached:
    token_hash: str
    body: bytes  # the answer's JSON
    etag: str
    plan: Plan | None
    at: float


class ProgressCache:
    """Bounded, thread-safe; `forget` is the change feed's listener."""

    def __init__(self, ttl_s: float = 10.0, max_entries: int = 50_000) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        # bumped by every change of an order: an answer read before a change is not kept;
        # when the table grows past `max_entries` it starts afresh under a new epoch (answers
        # being made then are not kept: a miss, never a stale answer)
        self._generations: dict[str, int] = {}
        self._epoch = 0

    def generation(self, order_id: str) -> tuple[int, int]:
        """Take this before reading an order; `put` keeps the answer only if it is unchanged."""
        with self._lock:
            return self._epoch, self._generations.get(order_id, 0)

    def get(self, order_id: str, plan: Plan | None) -> Cached | None:
        """The cached answer, if it is recent and was made with the current plan."""
        with self._lock:
            entry = self._entries.get(order_id)
            if entry is None:
                return None
            if entry.plan is not plan or time.monotonic() - entry.at > self._ttl_s:
                del self._entries[order_id]
                return None
            return entry

    def put(self, order_id: str, entry: Cached, generation: tuple[int, int]) -> None:
        with self._lock:
            if (self._epoch, self._generations.get(order_id, 0)) != generation:
                return  # the order changed while its answer was being made
            self._entries[order_id] = entry
            self._entries.move_to_end(order_id)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget(self, changes: Changes) -> None:
        with self._lock:
            for order_id in changes.orders:
                self._entries.pop(order_id, None)
                self._generations[order_id] = self._generations.get(order_id, 0) + 1
            if len(self._generations) > self._max:
                self._generations.clear()
                self._epoch += 1
