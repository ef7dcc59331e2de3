"""Counters the Sparkplug host keeps: births, deaths, rebirth requests and dead letters."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SparkplugStats:
    """Thread-safe counters, each keyed by a label (message type or reason). Prometheus reads
    these (the host counts under the bridge's lock, the exporter reads from its own thread)."""

    births: Counter[str] = field(default_factory=Counter)  # NBIRTH, DBIRTH
    deaths: Counter[str] = field(default_factory=Counter)  # NDEATH, DDEATH
    rebirth_requests: Counter[str] = field(default_factory=Counter)  # seq_gap, no_birth, ...
    dead_letters: Counter[str] = field(default_factory=Counter)  # PayloadError reason
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, label: str) -> None:
        """Add one to counter `name` under `label`."""
        with self._lock:
            counter: Counter[str] = getattr(self, name)
            counter[label] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A copy of every counter."""
        with self._lock:
            return {
                "births": dict(self.births),
                "deaths": dict(self.deaths),
                "rebirth_requests": dict(self.rebirth_requests),
                "dead_letters": dict(self.dead_letters),
            }
