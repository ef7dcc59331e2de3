"""The message bus on a fake unit of work: results, redeliveries, refusals rolled back alone."""

from __future__ import annotations

from typing import Any

from tests.clock import T0, Clock
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnits
from tracker.domain import commands
from tracker.domain.model import DomainError
from tracker.service_layer.bus import APPLIED, REDELIVERED, Changes, MessageBus


def _alarm(event_id: str) -> commands.RecordAlarm:
    return commands.RecordAlarm("saw-1", event_id, "JAM", "feeder jammed", T0)


def _bus(units: FakeUnits, **kwargs: Any) -> MessageBus:
    return MessageBus(units, Clock(), **kwargs)


def test_a_machine_event_applied_before_is_a_redelivery_and_changes_nothing() -> None:
    units = FakeUnits()
    bus = _bus(units)
    assert bus.handle_batch([_alarm("a1"), _alarm("a1")]) == [APPLIED, REDELIVERED]
    assert bus.handle(_alarm("a1")) is REDELIVERED
    assert len(units.store.tables.alarms) == 1


def test_a_refused_command_is_rolled_back_alone_and_the_rest_commits() -> None:
    units = FakeUnits()
    bus = _bus(units)
    results = bus.handle_batch([order("SO-1"), order("SO-1"), order("SO-2")])
    assert results[0] is APPLIED and results[2] is APPLIED
    assert isinstance(results[1], DomainError) and "already exists" in str(results[1])
    assert sorted(units.store.tables.orders) == ["SO-1", "SO-2"]


def test_machine_events_refused_one_by_one_are_not_remembered_as_applied() -> None:
    units = FakeUnits()
    bus = _bus(units)
    first = order("SO-1", quantity=1)
    start = commands.StartJob("saw-1", "s1", "SO-1", 10, T0)
    assert (
        bus.handle_batch([first, start, commands.RecordCycle("saw-1", "c1", 1, T0)])
        == [APPLIED] * 3
    )
    # operation 10 is completed: starting it again is refused; four refusals take savepoints
    again = [commands.StartJob("saw-1", f"x{i}", "SO-1", 10, T0) for i in range(4)]
    results = bus.handle_batch([*again, _alarm("a1")])
    assert all(isinstance(r, DomainError) for r in results[:4]) and results[4] is APPLIED
    assert {key for key in units.store.tables.processed if key[1].startswith("x")} == set()
    assert ("saw-1", "a1") in units.store.tables.processed


def test_each_commit_reports_what_it_changed_and_a_new_order_moves_the_plan() -> None:
    seen: list[Changes] = []
    asked: list[int] = []
    bus = _bus(FakeUnits(), on_commit=seen.append, on_plan_change=lambda: asked.append(1))
    bus.handle(order("SO-1"))
    bus.handle(_alarm("a1"))
    assert seen[0].orders == {"SO-1"} and seen[1].machines == {"saw-1"}
    assert asked == [1]
