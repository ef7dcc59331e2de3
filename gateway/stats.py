"""Counters the gateway keeps about what it received, wrote, spooled and rejected."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class GatewayStats:
    """Thread-safe counters; `rejected` is keyed by reason code. Prometheus reads these."""

    messages: int = 0
    points_written: int = 0
    batches_written: int = 0
    write_retries: int = 0
    batches_spooled: int = 0
    batches_replayed: int = 0
    spool_full: int = 0  # times a batch could not be spooled: acknowledgements held back
    connects: int = 0
    ignored: int = 0  # second copies, our own topics, retained repeats: acknowledged, not stored
    mapped_events: int = 0  # events made from mapped tags
    rejected: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def reject(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "messages": self.messages,
                "points_written": self.points_written,
                "batches_written": self.batches_written,
                "write_retries": self.write_retries,
                "batches_spooled": self.batches_spooled,
                "batches_replayed": self.batches_replayed,
                "spool_full": self.spool_full,
                "connects": self.connects,
                "ignored": self.ignored,
                "mapped_events": self.mapped_events,
                "rejected": dict(self.rejected),
            }
