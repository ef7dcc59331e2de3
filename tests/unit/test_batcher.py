"""Batcher: a batch is due by point count, by message count or by age; take() waits boundedly."""

from __future__ import annotations

import threading
import time

from gateway.batcher import Batch, Batcher

LONG = 60.0  # an age or timeout no test should ever reach
SHORT = 0.005


def _timed_take(batcher: Batcher, timeout_s: float) -> tuple[Batch | None, float]:
    start = time.monotonic()
    batch = batcher.take(timeout_s)
    return batch, time.monotonic() - start


def test_batch_is_due_when_it_reaches_max_points() -> None:
    batcher = Batcher(max_points=3, max_age_s=LONG, max_messages=100)
    batcher.add(["a", "b"], token=(0, 1))
    batcher.add(["c"], token=(0, 2))

    batch, waited = _timed_take(batcher, LONG)

    assert batch is not None
    assert batch.lines == ["a", "b", "c"]
    assert batch.tokens == [(0, 1), (0, 2)]
    assert len(batch) == 3
    assert waited < 1.0


def test_batch_is_due_when_it_reaches_max_messages_even_with_few_points() -> None:
    batcher = Batcher(max_points=1000, max_age_s=LONG, max_messages=2)
    batcher.add(["a"], token=(0, 7))
    batcher.add([], token=(0, 8))  # a message that produced no points still needs its ack

    batch, waited = _timed_take(batcher, LONG)

    assert batch is not None
    assert batch.lines == ["a"]
    assert batch.tokens == [(0, 7), (0, 8)]
    assert waited < 1.0


def test_batch_is_due_once_its_first_point_is_max_age_old() -> None:
    batcher = Batcher(max_points=1000, max_age_s=SHORT, max_messages=1000)
    batcher.add(["a"], token=(0, 1))

    batch, waited = _timed_take(batcher, LONG)

    assert batch is not None
    assert batch.lines == ["a"]
    assert waited < 1.0


def test_take_returns_none_when_nothing_arrives_before_the_timeout() -> None:
    batcher = Batcher(max_points=10, max_age_s=LONG, max_messages=10)

    batch, waited = _timed_take(batcher, SHORT)

    assert batch is None
    assert SHORT <= waited < 1.0


def test_take_with_zero_timeout_on_an_empty_batcher_returns_none_at_once() -> None:
    batcher = Batcher(max_points=10, max_age_s=LONG, max_messages=10)

    assert batcher.take(0) is None


def test_take_hands_over_a_partial_batch_when_the_timeout_passes() -> None:
    batcher = Batcher(max_points=10, max_age_s=LONG, max_messages=10)
    batcher.add(["a"], token=(0, 1))

    batch, waited = _timed_take(batcher, SHORT)

    assert batch is not None
    assert batch.tokens == [(0, 1)]
    assert waited < 1.0


def test_batch_counts_a_message_without_points() -> None:
    batcher = Batcher(max_points=10, max_age_s=LONG, max_messages=10)
    batcher.add([], token=(0, 5))

    batch = batcher.take(0)

    assert batch is not None
    assert len(batch) == 0
    assert batch.tokens == [(0, 5)]


def test_taken_batch_is_not_handed_over_twice() -> None:
    batcher = Batcher(max_points=1, max_age_s=LONG, max_messages=10)
    batcher.add(["a"], token=(0, 1))

    first = batcher.take(LONG)
    second = batcher.take(0)

    assert first is not None and first.lines == ["a"]
    assert second is None


def test_next_batch_starts_empty_and_collects_new_messages_only() -> None:
    batcher = Batcher(max_points=2, max_age_s=LONG, max_messages=10)
    batcher.add(["a", "b"], token=(0, 1))
    batcher.take(LONG)
    batcher.add(["c", "d"], token=(0, 2))

    batch = batcher.take(LONG)

    assert batch is not None
    assert batch.lines == ["c", "d"]
    assert batch.tokens == [(0, 2)]


def test_age_of_the_next_batch_counts_from_its_own_first_point() -> None:
    batcher = Batcher(max_points=1000, max_age_s=0.01, max_messages=1000)
    batcher.add(["old"], token=(0, 1))
    batcher.take(0)  # hands over the young partial batch
    time.sleep(0.012)  # the first batch's start time is now older than max_age_s
    batcher.add(["new"], token=(0, 2))

    # a stale start time would make this batch due at once; it must wait for the timeout
    batch, waited = _timed_take(batcher, 0.003)

    assert batch is not None and batch.tokens == [(0, 2)]
    assert waited >= 0.003


def test_waiting_take_wakes_as_soon_as_the_batch_becomes_due() -> None:
    batcher = Batcher(max_points=2, max_age_s=LONG, max_messages=100)
    result: list[tuple[Batch | None, float]] = []
    taker = threading.Thread(target=lambda: result.append(_timed_take(batcher, LONG)))
    taker.start()

    batcher.add(["a"], token=(0, 1))
    batcher.add(["b"], token=(0, 2))
    taker.join(timeout=5)

    assert not taker.is_alive()
    [(batch, waited)] = result
    assert batch is not None and batch.lines == ["a", "b"]
    assert waited < 1.0


def test_a_pause_in_the_stream_hands_the_batch_over_before_its_age() -> None:
    batcher = Batcher(max_points=1000, max_age_s=10.0, max_messages=1000, idle_s=0.01)
    batcher.add(["a"], token=(0, 1))
    t0 = time.monotonic()
    batch = batcher.take(timeout_s=5.0)
    assert batch is not None and batch.lines == ["a"]
    assert time.monotonic() - t0 < 1.0
