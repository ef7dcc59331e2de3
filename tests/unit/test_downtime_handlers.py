"""Downtime records from machine events on a fake unit of work: opened, closed, dropped when
short, their alarm and reason, and a person's classification."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.domain import commands
from tracker.domain.binding import MachineRules
from tracker.domain.downtime import Category, DowntimeRules, Reason, ReasonCatalogue
from tracker.service_layer import machine_handlers
from tracker.service_layer.downtime_handlers import StopNotFound, UnknownReason, classify_stop
from tracker.service_layer.handlers import COMMAND_HANDLERS

MIN = timedelta(minutes=1)
CATALOGUE = ReasonCatalogue(
    reasons={
        "spindle": Reason("spindle", "Spindle fault", Category.MECHANICAL),
        "no-operator": Reason("no-operator", "No operator", Category.NO_OPERATOR),
    },
    alarms={"SP-301": "spindle"},
)
RULES = MachineRules(downtime=DowntimeRules(CATALOGUE, min_s=60))


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return with_orders(order("SO-1", quantity=3), rules=RULES)


def _state(uow: FakeUnitOfWork, state: str, at: datetime, machine: str = "saw-1") -> None:
    cmd = commands.SetMachineState(machine, f"{state}-{at.isoformat()}", state, at)
    machine_handlers.set_machine_state(cmd, uow, at)


def _alarm(uow: FakeUnitOfWork, code: str, at: datetime) -> None:
    cmd = commands.RecordAlarm("saw-1", f"a-{at.isoformat()}", code, f"alarm {code}", at)
    machine_handlers.record_alarm(cmd, uow, at)


def test_a_breakdown_with_a_mapped_alarm_is_a_record_with_its_reason(uow: FakeUnitOfWork) -> None:
    _state(uow, "RUNNING", T0)
    _state(uow, "DOWN", T0 + MIN)
    _alarm(uow, "SP-301", T0 + MIN)  # the simulator's order: the state, then the alarm
    (record,) = uow.db.downtime.values()
    assert record["ended_at"] is None
    _state(uow, "RUNNING", T0 + 6 * MIN)
    assert (record["state"], record["started_at"], record["ended_at"]) == (
        "DOWN",
        T0 + MIN,
        T0 + 6 * MIN,
    )
    assert (record["alarm_code"], record["reason"], record["category"], record["source"]) == (
        "SP-301",
        "spindle",
        "mechanical",
        "alarm",
    )


def test_an_alarm_just_before_the_breakdown_comes_with_it(uow: FakeUnitOfWork) -> None:
    _alarm(uow, "SP-301", T0)
    _state(uow, "DOWN", T0 + timedelta(seconds=5))
    (record,) = uow.db.downtime.values()
    assert (record["alarm_code"], record["reason"]) == ("SP-301", "spindle")


def test_a_stop_shorter_than_the_minimum_leaves_no_record(uow: FakeUnitOfWork) -> None:
    _state(uow, "RUNNING", T0)
    _state(uow, "DOWN", T0 + MIN)
    _state(uow, "RUNNING", T0 + MIN + timedelta(seconds=30))
    assert uow.db.downtime == {}


def test_idle_is_a_stop_only_while_a_job_is_bound(uow: FakeUnitOfWork) -> None:
    _state(uow, "IDLE", T0)
    assert uow.db.downtime == {}
    start = commands.StartJob("saw-1", "s1", "SO-1", 10, T0 + MIN)
    machine_handlers.start_job(start, uow, T0 + MIN)
    (record,) = uow.db.downtime.values()
    assert (record["state"], record["order_id"], record["seq"]) == ("IDLE", "SO-1", 10)
    _state(uow, "SETUP", T0 + 10 * MIN)
    assert record["ended_at"] == T0 + 10 * MIN and record.get("reason") is None


def test_down_then_idle_with_the_job_is_two_stops(uow: FakeUnitOfWork) -> None:
    machine_handlers.start_job(commands.StartJob("saw-1", "s1", "SO-1", 10, T0), uow, T0)
    _state(uow, "RUNNING", T0)
    _state(uow, "DOWN", T0 + MIN)
    _state(uow, "IDLE", T0 + 5 * MIN)
    _state(uow, "RUNNING", T0 + 9 * MIN)
    stops = [(r["state"], r["started_at"], r["ended_at"]) for r in uow.db.downtime.values()]
    assert stops == [("DOWN", T0 + MIN, T0 + 5 * MIN), ("IDLE", T0 + 5 * MIN, T0 + 9 * MIN)]


def test_a_person_binding_a_job_to_an_idle_machine_begins_a_stop(uow: FakeUnitOfWork) -> None:
    _state(uow, "IDLE", T0)
    bind = COMMAND_HANDLERS[commands.BindJob]
    bind(commands.BindJob("saw-1", "SO-1", 10, "op-anna"), uow, T0 + MIN)
    (record,) = uow.db.downtime.values()
    assert (record["state"], record["started_at"]) == ("IDLE", T0 + MIN)
    release = COMMAND_HANDLERS[commands.ReleaseJob]
    release(commands.ReleaseJob("saw-1", "op-anna"), uow, T0 + 3 * MIN)
    assert record["ended_at"] == T0 + 3 * MIN


def test_a_machine_gone_silent_ends_its_stop_when_last_heard(uow: FakeUnitOfWork) -> None:
    _state(uow, "DOWN", T0)
    _alarm(uow, "XX-1", T0 + 5 * MIN)  # heard from, still DOWN
    check = commands.MarkSilentMachinesOffline(T0 + 30 * MIN, after_s=600)
    machine_handlers.mark_silent_machines_offline(check, uow, T0 + 30 * MIN)
    (record,) = uow.db.downtime.values()
    assert record["ended_at"] == T0 + 5 * MIN  # what followed is unknown, not downtime


def test_a_person_classifies_a_stop_and_an_alarm_after_it_keeps_that_reason(
    uow: FakeUnitOfWork,
) -> None:
    _state(uow, "DOWN", T0)
    (stop_id,) = uow.db.downtime
    cmd = commands.ClassifyStop(stop_id, "no-operator", "sup-bob", "nobody on shift")
    classify_stop(cmd, uow, T0 + 2 * MIN)
    _alarm(uow, "SP-301", T0 + 3 * MIN)
    record = uow.db.downtime[stop_id]
    assert (record["reason"], record["category"], record["source"]) == (
        "no-operator",
        "no_operator",
        "person",
    )
    assert (record["classified_by"], record["classified_at"], record["comment"]) == (
        "sup-bob",
        T0 + 2 * MIN,
        "nobody on shift",
    )
    assert record["alarm_code"] == "SP-301"


def test_a_classification_names_a_known_record_and_reason(uow: FakeUnitOfWork) -> None:
    _state(uow, "DOWN", T0)
    (stop_id,) = uow.db.downtime
    with pytest.raises(UnknownReason, match="unknown reason 'bogus' \\(reasons: no-operator"):
        classify_stop(commands.ClassifyStop(stop_id, "bogus", "sup-bob"), uow, T0)
    with pytest.raises(StopNotFound):
        classify_stop(commands.ClassifyStop(999, "spindle", "sup-bob"), uow, T0)


def test_a_classification_touches_its_machine_so_live_views_hear_of_it(
    uow: FakeUnitOfWork,
) -> None:
    _state(uow, "DOWN", T0)
    uow.commit()
    (stop_id,) = uow.db.downtime
    with uow:  # a transaction of its own, as the bus runs a person's command
        assert uow.machines_touched() == []
        classify_stop(commands.ClassifyStop(stop_id, "no-operator", "sup-bob"), uow, T0 + MIN)
        assert uow.machines_touched() == ["saw-1"]
