"""Job binding through the bus on SQLite and PostgreSQL: dispatch lists, people, events, the
unassigned cycles a binding takes (once), and machines whose bridge says when they are OFFLINE."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from tests.clock import T0, Clock
from tracker.adapters import orm
from tracker.adapters.database import session_factory
from tracker.adapters.unit_of_work import SqlUnitOfWork, SqlUnits
from tracker.domain import commands
from tracker.domain.binding import Binding, MachineRules, OfflineRule
from tracker.domain.model import Order
from tracker.domain.planning.model import Plan, PlannedOperation, Rule
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.job_binding import JobConflict, MachineNotFound, UnknownJob
from tracker.views import machines as views

pytestmark = pytest.mark.integration

RULES = MachineRules(
    bindings={"disp-1": Binding.DISPATCH, "op-1": Binding.OPERATOR},
    offline_rules={"bridged-1": OfflineRule.BRIDGE},
    unassigned_window_s=300,
    machines=frozenset({"disp-1", "op-1", "saw-1", "idle-9"}),
)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _bus(engine: Engine, clock: Clock, plan: Plan | None = None) -> MessageBus:
    return MessageBus(SqlUnits(session_factory(engine)), clock, plans=lambda: plan, rules=RULES)


def _create(bus: MessageBus, order_id: str, machines: tuple[str, ...], qty: int = 2) -> None:
    bus.handle(
        commands.CreateOrder(
            order_id=order_id,
            customer="ACME",
            product="bracket",
            quantity=qty,
            due_at=T0 + timedelta(days=2),
            token_hash="a" * 64,
            operations=tuple(
                commands.OperationSpec(10 * (i + 1), f"op{i}", m, 0, 60)
                for i, m in enumerate(machines)
            ),
        )
    )


def _plan(*jobs: tuple[str, int, str, float]) -> Plan:
    """A plan with (order, operation, machine, start in s) entries."""
    return Plan(
        made_at=T0,
        rule=Rule.EDD,
        operations={
            (o, seq): PlannedOperation(o, seq, m, _at(start), _at(start + 60))
            for o, seq, m, start in jobs
        },
    )


def _order(bus: MessageBus, order_id: str) -> Order:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        order = uow.get_order(order_id)
        assert order is not None
        return order


def _bound(bus: MessageBus, machine_id: str) -> tuple[str | None, int | None]:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        return views.binding(uow.session, machine_id)


def _log(bus: MessageBus, machine_id: str) -> list[tuple[str, str, int, str, str]]:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        rows = reversed(views.job_bindings(uow.session, machine_id))
        return [(r["action"], r["order_id"], r["seq"], r["source"], r["actor"]) for r in rows]


def test_a_dispatch_machine_works_its_list_in_plan_order_and_completes_the_orders(
    engine: Engine, clock: Clock
) -> None:
    # SO-2 is planned first on disp-1, but its first operation (on saw-1) is not done: not ready
    plan = _plan(("SO-2", 20, "disp-1", 0), ("SO-1", 10, "disp-1", 60), ("SO-3", 10, "disp-1", 120))
    bus = _bus(engine, clock, plan)
    _create(bus, "SO-1", ("disp-1",))
    _create(bus, "SO-2", ("saw-1", "disp-1"))
    _create(bus, "SO-3", ("disp-1",))

    for i in range(4):  # cumulative counter: the first cycle counts 1
        bus.handle(commands.RecordCycle("disp-1", f"c{i}", 100 + i, _at(10 * (i + 1))))

    assert [op.good_qty for op in _order(bus, "SO-1").operations] == [2]
    assert _order(bus, "SO-1").status.value == "completed"
    assert [op.good_qty for op in _order(bus, "SO-3").operations] == [2]
    assert [op.good_qty for op in _order(bus, "SO-2").operations] == [0, 0]
    assert _log(bus, "disp-1") == [
        ("start", "SO-1", 10, "dispatch", "event c0"),
        ("end", "SO-1", 10, "dispatch", "event c2"),
        ("start", "SO-3", 10, "dispatch", "event c2"),
    ]
    # a producing cycle with nothing ready left: the job ends, the parts stay unassigned
    bus.handle(commands.RecordCycle("disp-1", "c9", 104, _at(60)))
    assert _bound(bus, "disp-1") == (None, None)
    with SqlUnitOfWork(bus.units.sessions) as uow:
        kept = views.unassigned_events(uow.session, "disp-1")
    assert [(k["event_id"], k["good_qty"]) for k in kept] == [("c9", 1)]


def test_a_dispatch_machine_follows_events_that_name_a_job(engine: Engine, clock: Clock) -> None:
    bus = _bus(engine, clock, _plan(("SO-1", 10, "disp-1", 0), ("SO-2", 10, "disp-1", 60)))
    _create(bus, "SO-1", ("disp-1",))
    _create(bus, "SO-2", ("disp-1",))
    bus.handle(commands.StartJob("disp-1", "j1", "SO-2", 10, _at(5)))
    bus.handle(commands.RecordCycle("disp-1", "c1", 7, _at(10)))
    bus.handle(commands.RecordCycle("disp-1", "c2", 8, _at(20), order_id="SO-1", seq=10))
    assert [op.good_qty for op in _order(bus, "SO-2").operations] == [1]
    assert [op.good_qty for op in _order(bus, "SO-1").operations] == [1]
    assert _bound(bus, "disp-1") == ("SO-2", 10)


def test_a_binding_takes_the_windows_unassigned_cycles_once_and_keeps_them(
    engine: Engine, clock: Clock
) -> None:
    bus = _bus(engine, clock)
    _create(bus, "SO-1", ("saw-1",), qty=10)
    bus.handle(commands.RecordCycle("saw-1", "c0", 50, _at(0)))  # 1 part, outside the window
    bus.handle(commands.RecordCycle("saw-1", "c1", 52, _at(200), scrap_counter=0))  # 2 good
    bus.handle(commands.RecordCycle("saw-1", "c2", 53, _at(300), scrap_counter=1))  # 1 + 1 scrap
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, _at(400)))
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, _at(400)))  # redelivered
    bus.handle(commands.EndJob("saw-1", "e1", "SO-1", 10, _at(410)))
    bus.handle(commands.StartJob("saw-1", "j2", "SO-1", 10, _at(420)))  # bound a second time

    op = _order(bus, "SO-1").operations[0]
    assert (op.good_qty, op.scrap_qty) == (3, 1)
    assert op.started_at == _at(200)  # the job began with the first part it took
    with SqlUnitOfWork(bus.units.sessions) as uow:
        kept = {k["event_id"]: k for k in views.unassigned_events(uow.session, "saw-1")}
    assert set(kept) == {"c0", "c1", "c2"}  # kept for audit
    assert kept["c0"]["assigned_order_id"] is None
    assert (kept["c2"]["assigned_order_id"], kept["c2"]["assigned_seq"]) == ("SO-1", 10)
    assert kept["c2"]["assigned_at"] == clock.now
    with SqlUnitOfWork(bus.units.sessions) as uow:
        claimed = uow.session.execute(select(orm.job_bindings.c.claimed_good)).scalars().all()
    assert sorted(claimed) == [0, 0, 3]


def test_people_start_and_end_jobs_idempotently_and_are_recorded(
    engine: Engine, clock: Clock
) -> None:
    bus = _bus(engine, clock)
    _create(bus, "SO-1", ("op-1",), qty=5)
    _create(bus, "SO-2", ("op-1",), qty=5)
    bus.handle(commands.RecordCycle("op-1", "c1", 9, _at(-60)))  # before anyone bound a job
    bus.handle(commands.StartJob("op-1", "j1", "SO-2", 10, _at(-50)))  # not the machine's say
    clock.now = _at(0)
    bus.handle(commands.BindJob("op-1", "SO-1", 10, by="olga"))
    bus.handle(commands.BindJob("op-1", "SO-1", 10, by="olga"))  # a retry
    bus.handle(commands.RecordCycle("op-1", "c2", 10, _at(10)))
    bus.handle(commands.EndJob("op-1", "e1", "SO-1", 10, _at(15)))  # not the machine's say
    assert _bound(bus, "op-1") == ("SO-1", 10)
    clock.now = _at(20)
    bus.handle(commands.ReleaseJob("op-1", by="olga", order_id="SO-1", seq=10))
    bus.handle(commands.ReleaseJob("op-1", by="olga", order_id="SO-1", seq=10))  # a retry

    assert _bound(bus, "op-1") == (None, None)
    assert [op.good_qty for op in _order(bus, "SO-1").operations] == [2]
    assert [op.good_qty for op in _order(bus, "SO-2").operations] == [0]
    assert _log(bus, "op-1") == [
        ("start", "SO-1", 10, "operator", "olga"),
        ("end", "SO-1", 10, "operator", "olga"),
    ]
    with SqlUnitOfWork(bus.units.sessions) as uow:
        kept = views.unassigned_events(uow.session, "op-1")
    assert {k["type"] for k in kept} == {"cycle", "job_start", "job_end"}


def test_people_are_told_why_a_job_cannot_be_bound(engine: Engine, clock: Clock) -> None:
    bus = _bus(engine, clock)
    _create(bus, "SO-1", ("op-1", "saw-1"), qty=1)
    _create(bus, "SO-2", ("op-1",), qty=1)
    with pytest.raises(MachineNotFound):
        bus.handle(commands.BindJob("nowhere-1", "SO-1", 10, by="olga"))
    with pytest.raises(UnknownJob, match="unknown order SO-404"):
        bus.handle(commands.BindJob("op-1", "SO-404", 10, by="olga"))
    with pytest.raises(UnknownJob, match="has no operation 99"):
        bus.handle(commands.BindJob("op-1", "SO-1", 99, by="olga"))
    bus.handle(commands.BindJob("idle-9", "SO-1", 10, by="olga"))  # declared, never heard from
    bus.handle(commands.RecordCycle("idle-9", "c1", 1, _at(1)))
    with pytest.raises(JobConflict, match="operation 10 of order SO-1 is already completed"):
        bus.handle(commands.BindJob("op-1", "SO-1", 10, by="olga"))
    bus.handle(commands.CancelOrder("SO-1", "no longer wanted"))
    with pytest.raises(JobConflict, match="order SO-1 is cancelled"):
        bus.handle(commands.BindJob("op-1", "SO-1", 20, by="olga"))
    bus.handle(commands.BindJob("op-1", "SO-2", 10, by="olga"))
    with pytest.raises(JobConflict, match="works SO-2 operation 10, not SO-1"):
        bus.handle(commands.ReleaseJob("op-1", by="olga", order_id="SO-1"))
    assert _bound(bus, "op-1") == ("SO-2", 10)


def _after_silence(
    bus: MessageBus, clock: Clock, state: str, machines: tuple[str, ...]
) -> dict[str, str]:
    """Each machine's state after `state` at 0 s and the silence check at 1000 s (300 s)."""
    for machine in machines:
        bus.handle(commands.SetMachineState(machine, "s1", state, _at(0)))
    clock.now = _at(1000)
    bus.handle(commands.MarkSilentMachinesOffline(clock.now, 300))
    with SqlUnitOfWork(bus.units.sessions) as uow:
        return {m.machine_id: m.state for m in map(uow.get_machine, machines)}


def test_a_bridged_machine_stays_in_its_state_when_silent_until_its_bridge_says_offline(
    engine: Engine, clock: Clock
) -> None:
    bus = _bus(engine, clock)
    states = _after_silence(bus, clock, "RUNNING", ("bridged-1", "saw-1"))
    assert states == {"bridged-1": "RUNNING", "saw-1": "OFFLINE"}
    bus.handle(commands.SetMachineState("bridged-1", "will", "OFFLINE", _at(1001)))
    with SqlUnitOfWork(bus.units.sessions) as uow:
        assert uow.get_machine("bridged-1").state == "OFFLINE"


def test_with_bridge_as_the_default_only_silence_machines_go_offline_when_silent(
    engine: Engine, clock: Clock
) -> None:
    rules = MachineRules(offline=OfflineRule.BRIDGE, offline_rules={"saw-1": OfflineRule.SILENCE})
    bus = MessageBus(SqlUnits(session_factory(engine)), clock, rules=rules)
    states = _after_silence(bus, clock, "IDLE", ("weld-1", "saw-1"))
    assert states == {"weld-1": "IDLE", "saw-1": "OFFLINE"}
