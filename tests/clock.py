"""Time driven by the test: domain code takes `now`, so tests pass this clock in."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Clock:
    """Returns `now`, which the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now
