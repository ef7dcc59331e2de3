"""Capable-to-promise quotes against a plan: free windows, work centers, priority, calendars."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tracker.domain.planning.model import (
    Calendar,
    Plan,
    PlanJob,
    PlanMachine,
    PlannedOperation,
    PlanOperation,
    Rule,
    Shift,
)
from tracker.domain.planning.quote import QuoteBook, QuoteError

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday


def _at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def _plan(*booked: tuple[str, str, float, float]) -> Plan:
    ops = {
        (order, 10): PlannedOperation(order, 10, machine, _at(a), _at(b))
        for order, machine, a, b in booked
    }
    return Plan(NOW, Rule.EDD, ops)


def _op(seq: int, minutes: float, *machines: str) -> PlanOperation:
    return PlanOperation(seq, machines, 0.0, minutes * 60)


def test_on_idle_machines_the_quote_is_now_plus_the_work() -> None:
    book = QuoteBook(_plan(), [PlanMachine("saw"), PlanMachine("weld")], [], NOW)
    quote = book.quote([_op(10, 30, "saw"), _op(20, 45, "weld")])
    assert quote.completion == _at(75)
    assert [(q.machine, q.start, q.end) for q in quote.operations] == [
        ("saw", _at(0), _at(30)),
        ("weld", _at(30), _at(75)),
    ]


def test_an_operation_takes_the_first_free_window_that_fits() -> None:
    # saw: busy 0-20, free 20-40 (20 min), busy 40-100
    plan = _plan(("A", "saw", 0, 20), ("B", "saw", 40, 100))
    book = QuoteBook(plan, [PlanMachine("saw")], [], NOW)
    assert book.quote([_op(10, 15, "saw")]).completion == _at(35)  # fits the gap
    assert book.quote([_op(10, 25, "saw")]).completion == _at(125)  # does not: after B


def test_a_work_center_quote_uses_the_machine_that_finishes_first() -> None:
    plan = _plan(("A", "saw-1", 0, 60))
    book = QuoteBook(plan, [PlanMachine("saw-1"), PlanMachine("saw-2")], [], NOW)
    [op] = book.quote([_op(10, 10, "saw-1", "saw-2")]).operations
    assert (op.machine, op.end) == ("saw-2", _at(10))


def _job(order_id: str, due_min: float, priority: int = 0, running: bool = False) -> PlanJob:
    return PlanJob(
        order_id,
        _at(due_min),
        NOW,
        (PlanOperation(10, ("saw",), 0.0, 60.0, "saw" if running else None),),
        priority,
    )


def test_a_quote_due_sooner_goes_ahead_of_orders_the_dispatcher_would_put_after_it() -> None:
    plan = _plan(("A", "saw", 0, 60))  # A waits for nothing; due in 2 h
    book = QuoteBook(plan, [PlanMachine("saw")], [_job("A", 120)], NOW)
    assert book.quote([_op(10, 10, "saw")]).completion == _at(70)  # no due date: after A
    assert book.quote([_op(10, 10, "saw")], due_at=_at(30)).completion == _at(10)
    assert book.quote([_op(10, 10, "saw")], due_at=_at(180)).completion == _at(70)
    # the same due date: the higher priority goes first
    assert book.quote([_op(10, 10, "saw")], 5, due_at=_at(120)).completion == _at(10)
    assert book.quote([_op(10, 10, "saw")], 0, due_at=_at(120)).completion == _at(70)


def test_a_quote_never_passes_an_operation_already_running() -> None:
    plan = _plan(("A", "saw", 0, 60))
    book = QuoteBook(plan, [PlanMachine("saw")], [_job("A", 120, running=True)], NOW)
    assert book.quote([_op(10, 10, "saw")], 9, due_at=_at(15)).completion == _at(70)


def test_a_quote_passes_nothing_that_starts_before_it_is_ready() -> None:
    # B starts at 20 on weld; the quote reaches weld only at 30 (after its saw step): B runs
    plan = _plan(("B", "weld", 20, 80))
    book = QuoteBook(plan, [PlanMachine("saw"), PlanMachine("weld")], [_job("B", 500)], NOW)
    quote = book.quote([_op(10, 30, "saw"), _op(20, 10, "weld")], due_at=_at(100))
    assert quote.completion == _at(90)


def test_against_a_plan_by_another_rule_a_quote_passes_nothing() -> None:
    plan = Plan(NOW, Rule.RELEASE, _plan(("A", "saw", 0, 60)).operations)
    book = QuoteBook(plan, [PlanMachine("saw")], [_job("A", 120)], NOW)
    assert book.quote([_op(10, 10, "saw")], due_at=_at(30)).completion == _at(70)


def test_a_machine_that_is_down_is_quoted_from_when_it_is_back() -> None:
    book = QuoteBook(_plan(), [PlanMachine("saw", available_at=_at(90))], [], NOW)
    assert book.quote([_op(10, 10, "saw")]).completion == _at(100)


def test_quotes_work_only_in_the_machine_calendar() -> None:
    day = Calendar("day", "UTC", (Shift(frozenset(range(5)), time(6), time(10)),))
    book = QuoteBook(_plan(), [PlanMachine("paint", day)], [], NOW)
    # 08:00 Monday: 2 h left today, the third hour on Tuesday 06:00-07:00
    assert book.quote([_op(10, 180, "paint")]).completion == datetime(
        2026, 11, 24, 7, 0, tzinfo=UTC
    )


def test_a_machine_the_plan_does_not_know_is_quoted_as_idle_like_an_order_would_be() -> None:
    book = QuoteBook(_plan(), [PlanMachine("saw")], [], NOW)
    quote = book.quote([_op(10, 5, "saw"), _op(20, 5, "laser-9")])
    assert quote.operations[1].machine == "laser-9"
    assert quote.completion == _at(10)


def test_an_operation_without_a_machine_is_a_clear_error() -> None:
    book = QuoteBook(_plan(), [PlanMachine("saw")], [], NOW)
    with pytest.raises(QuoteError, match="operation 20 names no machine"):
        book.quote([_op(10, 5, "saw"), _op(20, 5)])
