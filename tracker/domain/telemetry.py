"""Chart reads of machine telemetry: the question, the answer's shape, and the bucket rule."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

# chart buckets, seconds: round numbers, each a multiple of one of the SQLite rollup's widths
# (1, 10, 60, 600) at most a few times over, so no read aggregates many more rows than it returns
_BUCKETS_S = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)


@dataclass(frozen=True)
class TelemetryQuery:
    """One machine's channels (None: every channel it has) from `start` to `end`, at most
    `points` buckets each."""

    machine: str
    start: datetime
    end: datetime
    channels: tuple[str, ...] | None
    points: int

    @property
    def bucket_s(self) -> int:
        """The bucket every channel is averaged over (see `bucket_seconds`)."""
        return bucket_seconds(self.start, self.end, self.points)


Sample = tuple[float, float]  # bucket start (Unix seconds), mean of the bucket


@dataclass(frozen=True)
class TelemetrySeries:
    """The answer: each channel's (bucket start, mean) pairs, oldest first, no empty buckets."""

    bucket_s: int
    channels: dict[str, list[Sample]]


def bucket_seconds(start: datetime, end: datetime, points: int) -> int:
    """The smallest round bucket that cuts `start`..`end` into at most `points` buckets (whole
    hours past an hour)."""
    needed = max((end - start).total_seconds() / max(points, 1), 1.0)
    for bucket in _BUCKETS_S:
        if bucket >= needed:
            return bucket
    return math.ceil(needed / 3600) * 3600
