"""Collects points and the tokens of the MQTT messages they came from until a batch is due."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .acks import Token


@dataclass
class Batch:
    """Points to write and the messages to acknowledge once they are durable."""

    lines: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    messages: int = 0

    def __len__(self) -> int:
        return len(self.lines)


class Batcher:
    """Thread-safe accumulator: a batch is due at `max_points`, or `max_age_s` after its start."""

    def __init__(
        self, max_points: int, max_age_s: float, max_messages: int, idle_s: float = 0.05
    ) -> None:
        self._max_points = max_points
        self._max_age_s = max_age_s
        # a pause in the stream (a drained backlog, a quiet line) writes what is there at once
        self._idle_s = min(idle_s, max_age_s)
        self._last_add = 0.0
        # the broker stops sending past its in-flight window, so never wait beyond it
        self._max_messages = max_messages
        self._batch = Batch()
        self._started = 0.0
        self._cond = threading.Condition()

    def add(self, lines: list[str], token: Token | None) -> None:
        with self._cond:
            now = time.monotonic()
            if not self._batch.messages:
                self._started = now
            self._last_add = now
            self._batch.lines.extend(lines)
            if token is not None:
                self._batch.tokens.append(token)
            self._batch.messages += 1
            if self._due():
                self._cond.notify()

    def _due(self) -> bool:
        return (
            len(self._batch.lines) >= self._max_points or self._batch.messages >= self._max_messages
        )

    def take(self, timeout_s: float) -> Batch | None:
        """Wait until a batch is due (or `timeout_s` passes) and hand it over; None if empty."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                has_any = self._batch.messages > 0
                now = time.monotonic()
                if has_any and (
                    self._due()
                    or now - self._started >= self._max_age_s
                    or now - self._last_add >= self._idle_s
                ):
                    break
                if now >= deadline:
                    if not has_any:
                        return None
                    break
                wait = deadline - now
                if has_any:
                    wait = min(
                        wait,
                        self._started + self._max_age_s - now,
                        self._last_add + self._idle_s - now,
                    )
                self._cond.wait(max(wait, 0.001))
            batch, self._batch = self._batch, Batch()
            return batch

    def wake(self) -> None:
        """Let a waiting `take` re-check (used at shutdown)."""
        with self._cond:
            self._cond.notify_all()
