"""When an order's customers hear that its promise moved: state change, interval, coalescing,
a flip that reverted, and the first forecast."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.clock import T0
from tracker.domain.promises import (
    MOVED,
    RESTORED,
    PromiseNotice,
    PromiseState,
    promise_at_risk,
    step,
)

HOUR = timedelta(hours=1)
INTERVAL = 4 * HOUR


def test_the_promise_is_at_risk_only_when_p90_is_past_the_due_date() -> None:
    assert promise_at_risk(T0 + HOUR, T0)
    assert not promise_at_risk(T0, T0)
    assert not promise_at_risk(T0 - HOUR, T0)


def test_an_order_first_seen_on_time_is_no_news() -> None:
    state, tell = step(None, False, T0, INTERVAL)

    assert (state, tell) == (PromiseState(False, False, None), False)


def test_an_order_first_seen_at_risk_is_told_at_once() -> None:
    state, tell = step(None, True, T0, INTERVAL)

    assert (state, tell) == (PromiseState(True, True, T0), True)


def test_a_promise_moving_past_its_date_is_told_then_its_return_after_the_interval() -> None:
    state, tell = step(PromiseState(False), True, T0, INTERVAL)
    assert (state, tell) == (PromiseState(True, True, T0), True)

    state, tell = step(state, False, T0 + HOUR, INTERVAL)  # back within the interval: waits
    assert (state, tell) == (PromiseState(False, True, T0), False)

    state, tell = step(state, False, T0 + INTERVAL, INTERVAL)  # the interval is over
    assert (state, tell) == (PromiseState(False, False, T0 + INTERVAL), True)


def test_a_flip_that_reverted_within_the_interval_is_never_told() -> None:
    told = PromiseState(True, True, T0)
    state, tell = step(told, False, T0 + HOUR, INTERVAL)
    assert not tell
    state, tell = step(state, True, T0 + 2 * HOUR, INTERVAL)
    assert not tell

    state, tell = step(state, True, T0 + INTERVAL + HOUR, INTERVAL)

    assert (state, tell) == (PromiseState(True, True, T0), False)


def test_many_changes_within_the_interval_give_one_notice_of_the_latest_state() -> None:
    state = PromiseState(True, True, T0)
    told = []
    for minutes, at_risk in [(10, False), (20, True), (30, False), (300, False), (310, False)]:
        state, tell = step(state, at_risk, T0 + timedelta(minutes=minutes), INTERVAL)
        told.append(tell)

    assert told == [False, False, False, True, False]
    assert state == PromiseState(False, False, T0 + timedelta(minutes=300))


def test_no_interval_tells_every_change() -> None:
    state, tell = step(PromiseState(True, True, T0), False, T0, timedelta(0))

    assert tell and state.told is False


def test_the_notice_kind_says_moved_or_restored() -> None:
    notice = PromiseNotice("SO-1", "ACME", "bracket", T0, T0 + HOUR, T0 + 2 * HOUR, True)

    assert notice.kind == MOVED
    assert replace(notice, at_risk=False).kind == RESTORED
