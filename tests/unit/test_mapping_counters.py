"""Bridge counters to whole-part counter values: fractions, resets, wraps, repeats, order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.mapping.counters import CumulativeCounter, IncrementCounter
from tracker.domain.machine import Machine

S = 1_000_000_000


def test_first_value_is_a_baseline_that_counts_nothing() -> None:
    counter = CumulativeCounter()
    step = counter.update("228.18", 1 * S)
    assert step.baseline and step.counters == (228,) and step.parts == 0


def test_a_part_counts_when_the_whole_part_advances() -> None:
    counter = CumulativeCounter()
    counter.update(228.18, 1 * S)
    assert counter.update(228.9, 2 * S).counters == ()
    step = counter.update(229.4, 3 * S)
    assert step.counters == (229,) and step.parts == 1
    assert counter.update(231.0, 4 * S).parts == 2


def test_a_counter_back_at_zero_is_a_reset_and_its_new_value_counts() -> None:
    counter = CumulativeCounter()
    counter.update(500.5, 1 * S)
    step = counter.update(0, 2 * S)
    assert step.note == "reset" and step.counters == (0,) and step.parts == 0
    assert counter.update(2.2, 3 * S).parts == 2


def test_a_small_drop_is_refused_as_going_back_without_a_reset() -> None:
    counter = CumulativeCounter()
    counter.update(500, 1 * S)
    step = counter.update(480, 2 * S)
    assert step.error is not None and "went back" in step.error
    assert counter.update(501, 3 * S).parts == 1  # the old value still stands


def test_a_counter_that_keeps_counting_from_where_it_fell_did_restart() -> None:
    counter = CumulativeCounter()
    counter.update(20, 1 * S)
    assert counter.update(10, 2 * S).error is not None  # once: a glitch or a restart?
    step = counter.update(19, 3 * S)  # it goes on from 10: a restart, as the tracker reads it
    assert step.note == "reset" and step.counters == (19,) and step.parts == 19


def test_a_drop_near_the_declared_wrap_counts_across_it() -> None:
    counter = CumulativeCounter(wrap=65536)
    counter.update(65530, 1 * S)
    step = counter.update(4, 2 * S)
    assert step.note == "wrap" and step.parts == 10 and step.counters == (4,)


def test_an_older_value_is_stale_and_a_repeat_counts_nothing() -> None:
    counter = CumulativeCounter()
    counter.update(10, 5 * S)
    assert counter.update(9, 4 * S).note == "stale"
    assert counter.update(10, 6 * S).note == "repeat"


def test_text_negative_and_huge_values_are_refused_with_the_reason() -> None:
    counter = CumulativeCounter()
    assert "not a number" in (counter.update("lots", S).error or "")
    assert "negative" in (counter.update(-1, S).error or "")
    assert "63 bits" in (counter.update(2.0**64, S).error or "")
    assert "not a number" in (counter.update(float("nan"), S).error or "")


def test_increments_start_from_a_baseline_of_zero() -> None:
    counter = IncrementCounter()
    step = counter.update(3, S)
    assert step.counters == (0, 3) and step.baseline and step.parts == 3
    assert counter.update(0.5, 2 * S).counters == ()
    assert counter.update(0.5, 3 * S).counters == (4,)


def test_an_increment_delivered_again_adds_nothing_and_a_late_one_still_adds() -> None:
    counter = IncrementCounter()
    counter.update(2, 5 * S)
    assert counter.update(2, 5 * S).note == "repeat"  # the same reading again
    assert counter.update(1, 4 * S).counters == (3,)  # older, but parts all the same


def test_per_message_counts_one_part_per_true_value() -> None:
    counter = IncrementCounter(per_message=True)
    counter.update(True, S)
    assert counter.update(False, 2 * S).parts == 0
    assert counter.update(7, 3 * S).counters == (2,)


# -- properties: a bridge's counter through the mapping and the tracker's own counting --------

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# what happens on the machine between two published values
_step = st.one_of(
    st.tuples(st.just("make"), st.floats(0.01, 3.0)),  # parts made (fractional)
    st.tuples(st.just("reset"), st.just(0.0)),  # Reset, or the bridge restarting: back to 0
    st.tuples(st.just("repeat"), st.just(0.0)),  # the last message delivered again
    st.tuples(st.just("late"), st.integers(1, 5)),  # an older message delivered again, late
)


def _counted(messages: list[tuple[float, int]], wrap: int | None = None) -> int:
    """Parts the tracker counts from the events the mapping makes of these messages."""
    counter = CumulativeCounter(wrap)
    machine = Machine("m")
    seen: set[tuple[int, int]] = set()  # (counter, ts): the tracker's de-duplication by id
    total = 0
    for value, ts_ns in messages:
        step = counter.update(value, ts_ns)
        assert step.parts >= 0
        for i, reported in enumerate(step.counters):
            if (reported, ts_ns) in seen:
                continue
            seen.add((reported, ts_ns))
            at = T0 + timedelta(microseconds=ts_ns // 1000)
            count = machine.count_cycle(reported, at, wrap=wrap, baseline=step.baseline and i == 0)
            assert count.good >= 0
            total += count.good
    return total


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 1000), st.lists(_step, max_size=60))
def test_counts_every_whole_part_once_whatever_the_delivery(
    start: float, steps: list[tuple[str, float]]
) -> None:
    value, ts = start, S
    published: list[tuple[float, int]] = [(value, ts)]
    delivered = list(published)
    expected, segment_start = 0, int(start)
    for kind, amount in steps:
        if kind == "make":
            ts += S
            value += amount
            published.append((value, ts))
            delivered.append((value, ts))
        elif kind == "reset":
            expected += int(value) - segment_start
            ts += S
            value, segment_start = 0.0, 0
            published.append((value, ts))
            delivered.append((value, ts))
        elif kind == "repeat":
            delivered.append(delivered[-1])
        else:
            delivered.append(published[max(0, len(published) - 1 - int(amount))])
    expected += int(value) - segment_start
    assert _counted(delivered) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 999), st.lists(st.integers(1, 90), max_size=80))
def test_a_wrapping_counter_counts_across_its_wrap(start: int, made: list[int]) -> None:
    wrap = 1000
    value, ts, messages = start, S, [(float(start), S)]
    for parts in made:
        ts += S
        value = (value + parts) % wrap
        messages.append((float(value), ts))
    assert _counted(messages, wrap) == sum(made)
