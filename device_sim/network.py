"""Network faults between a machine and the broker: silence, duplicates, reordering, garbage.

A `Link` sits on one machine's outgoing messages. No I/O: it takes what the machine sends and
returns what actually goes out now (kind, payload bytes), so the faults are unit-testable and
repeat with a seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from shopfloor.contract.topics import EVENT, TELEMETRY

Outgoing = tuple[str, bytes]  # (kind, payload)

# contract breaches a real bridge produces, each with the reason the gateway/tracker gives
_MALFORMED: tuple[tuple[str, bytes], ...] = (
    (EVENT, b'{"type": "cycle", "event_id": "x", "counter": '),  # cut off: not JSON
    (EVENT, b'{"type": "cycle", "event_id": "bad-1", "counter": "many"}'),  # wrong type
    (EVENT, b'{"type": "teleport", "event_id": "bad-2"}'),  # unknown event type
    (EVENT, b'{"type": "state", "state": "RUNNING"}'),  # no event_id
    (TELEMETRY, b'{"values": {"spindle_temp_c": "hot"}}'),  # a text value
    (TELEMETRY, b'{"values": {"power_kw": NaN}}'),  # not a finite number
    (TELEMETRY, b"\xff\xfe\x00garbage"),  # not UTF-8
    (TELEMETRY, b"[]"),  # an empty batch
)


def malformed_payload(n: int, rng: random.Random) -> Outgoing:
    """The n-th of the malformed payloads (one in nine is oversized: 2 MB of readings)."""
    if n % 9 == 8:
        values = {f"v{i}": rng.random() for i in range(80_000)}
        return TELEMETRY, json.dumps({"values": values}).encode()
    return _MALFORMED[n % len(_MALFORMED)]


@dataclass
class Link:
    """One machine's connection, with the faults a scenario put on it."""

    rng: random.Random
    silent_until: float = 0.0
    buffered: bool = False
    duplicates_left: int = 0
    reorder_left: int = 0
    _held: list[Outgoing] = field(default_factory=list)
    _reordering: list[Outgoing] = field(default_factory=list)
    _malformed_sent: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    malformed: int = 0

    def go_silent(self, now_s: float, for_s: float, buffered: bool) -> None:
        self.silent_until = max(self.silent_until, now_s + for_s)
        self.buffered = buffered

    def duplicate_next(self, n: int) -> None:
        self.duplicates_left += n

    def reorder_next(self, n: int) -> None:
        self.reorder_left += n

    def garbage(self, n: int) -> list[Outgoing]:
        """`n` malformed payloads to send now."""
        out = []
        for _ in range(n):
            out.append(malformed_payload(self._malformed_sent, self.rng))
            self._malformed_sent += 1
        self.malformed += n
        return out

    def send(self, now_s: float, messages: list[Outgoing]) -> list[Outgoing]:
        """What of `messages` (and of what was held back) goes out at plant time `now_s`."""
        if now_s < self.silent_until:
            if self.buffered:
                self._held.extend(messages)
            else:
                self.dropped += len(messages)
            return []
        out, self._held = self._held, []
        for kind, payload in messages:
            if kind != EVENT:
                out.append((kind, payload))
                continue
            if self.reorder_left > 0:
                self._reordering.append((kind, payload))
                self.reorder_left -= 1
                if self.reorder_left == 0:
                    self.reordered += len(self._reordering)
                    out.extend(reversed(self._reordering))
                    self._reordering = []
                continue
            out.append((kind, payload))
            if self.duplicates_left > 0:
                self.duplicates_left -= 1
                self.duplicated += 1
                out.append((kind, payload))
        return out
