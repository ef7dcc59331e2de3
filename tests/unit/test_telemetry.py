"""Chart buckets: round, and at most the points asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain.telemetry import bucket_seconds

T0 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("span", "points", "bucket"),
    [
        (timedelta(minutes=10), 1000, 1),
        (timedelta(hours=1), 1000, 5),
        (timedelta(hours=8), 1000, 30),
        (timedelta(days=7), 1000, 1200),
        (timedelta(days=7), 2000, 600),
        (timedelta(days=31), 10, 270000),
    ],
)
def test_the_bucket_is_the_smallest_round_one_that_keeps_to_the_points(
    span: timedelta, points: int, bucket: int
) -> None:
    assert bucket_seconds(T0, T0 + span, points) == bucket
    assert span.total_seconds() / bucket <= points
