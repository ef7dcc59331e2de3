"""The planner on real SQLite and PostgreSQL: inputs read from the database, plan written back."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from tests.clock import T0, Clock
from tests.waiting import wait_for
from tracker.adapters import orm
from tracker.adapters.database import session_factory
from tracker.adapters.optimiser import optimise
from tracker.adapters.planning_reads import SqlPlanningSessions
from tracker.adapters.unit_of_work import SqlUnits
from tracker.domain import commands
from tracker.domain.planning.model import Plan, Rule
from tracker.domain.routing import Plant
from tracker.service_layer.bus import Changes, MessageBus
from tracker.service_layer.planning import Planner, PlanningPolicy

pytestmark = pytest.mark.integration

PLANT = Plant(machines=("saw-1", "saw-2", "weld-1"), work_centers={"cut": ("saw-1", "saw-2")})


def _order(
    order_id: str, due_h: float, qty: int = 10, first: str = "saw-1", priority: int = 0
) -> commands.CreateOrder:
    """Two operations: 60 s setup + 60 s/part on `first`, then 30 s/part on weld-1."""
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="bracket",
        quantity=qty,
        due_at=T0 + timedelta(hours=due_h),
        token_hash="a" * 64,
        priority=priority,
        operations=(
            commands.OperationSpec(10, "cut", first, 60, 60),
            commands.OperationSpec(20, "weld", "weld-1", 0, 30),
        ),
    )


def _planner(engine: Engine, clock: Clock, rule: Rule = Rule.EDD) -> Planner:
    return Planner(
        SqlPlanningSessions(session_factory(engine)), PLANT, clock, PlanningPolicy(rule, 1800.0)
    )


def _planned(engine: Engine) -> dict[tuple[str, int], tuple[str, datetime, datetime]]:
    op = orm.operations.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(op.order_id, op.seq, op.planned_machine, op.planned_start, op.planned_end)
        )
        return {(r[0], r[1]): (r[2], _utc(r[3]), _utc(r[4])) for r in rows}


def _utc(t: datetime) -> datetime:
    return orm.UTCDateTime().process_result_value(t, None)  # type: ignore[arg-type,return-value]


def test_orders_on_one_machine_queue_by_due_date(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    bus.handle(_order("LATER", due_h=8))
    bus.handle(_order("SOONER", due_h=2))

    plan = _planner(engine, clock).replan()

    cut = timedelta(seconds=60 + 600)
    sooner, later = plan.operations[("SOONER", 10)], plan.operations[("LATER", 10)]
    assert (sooner.start, sooner.end) == (T0, T0 + cut)
    assert (later.start, later.end) == (T0 + cut, T0 + 2 * cut)
    # the ETA of the order that waits includes the queue in front of it
    assert plan.eta("LATER") == T0 + 2 * cut + timedelta(seconds=300)
    assert plan.eta("SOONER") == T0 + cut + timedelta(seconds=300)


def test_the_release_rule_keeps_the_order_of_release(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    bus.handle(_order("FIRST", due_h=8))
    clock.now = T0 + timedelta(seconds=1)
    bus.handle(_order("SECOND", due_h=2))

    plan = _planner(engine, clock, Rule.RELEASE).replan()

    assert plan.operations[("FIRST", 10)].start < plan.operations[("SECOND", 10)].start


def test_a_work_center_spreads_orders_over_its_machines(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    bus.handle(_order("A", due_h=8, first="cut"))
    bus.handle(_order("B", due_h=8, first="cut"))

    plan = _planner(engine, clock).replan()

    machines = {plan.operations[("A", 10)].machine, plan.operations[("B", 10)].machine}
    assert machines == {"saw-1", "saw-2"}
    assert plan.operations[("A", 10)].start == plan.operations[("B", 10)].start == T0


def test_a_machine_that_is_down_is_planned_from_the_allowance(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    bus.handle(_order("A", due_h=8))
    bus.handle(commands.SetMachineState("saw-1", "e1", "DOWN", T0))

    plan = _planner(engine, clock).replan()

    assert plan.operations[("A", 10)].start == T0 + timedelta(seconds=1800)


def test_an_operation_keeps_the_plan_it_had_when_it_started(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    planner = _planner(engine, clock)
    bus = MessageBus(SqlUnits(session_factory(engine)), clock, plans=lambda: planner.current)
    bus.handle(_order("A", due_h=8))
    first = planner.replan()
    assert first.operations[("A", 10)].end == T0 + timedelta(seconds=660)
    assert _planned(engine)[("A", 10)] == (None, None, None)  # not started: in memory only

    # the job starts 10 minutes late and runs slower than planned
    clock.now = T0 + timedelta(minutes=10)
    bus.handle(commands.StartJob("saw-1", "e1", "A", 10, clock.now))
    for n in range(1, 4):
        clock.now += timedelta(seconds=90)
        bus.handle(commands.RecordCycle("saw-1", f"c{n}", n, clock.now, 90.0, "A", 10))
    plan = planner.replan()

    # planned vs actual: the plan the operation had when it started is kept
    assert _planned(engine)[("A", 10)] == ("saw-1", T0, T0 + timedelta(seconds=660))
    assert _planned(engine)[("A", 20)] == (None, None, None)
    # what is left of the running operation (7 parts at the observed 90 s) starts now
    running = plan.operations[("A", 10)]
    assert (running.start, running.end) == (clock.now, clock.now + timedelta(seconds=7 * 90))
    assert plan.operations[("A", 20)].start == running.end


def test_completed_and_cancelled_orders_leave_the_plan(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    bus.handle(_order("A", due_h=8, qty=1))
    bus.handle(_order("B", due_h=8))
    bus.handle(commands.RecordCycle("saw-1", "c1", 1, T0, 60.0, "A", 10))
    bus.handle(commands.RecordCycle("weld-1", "w1", 1, T0, 30.0, "A", 20))
    bus.handle(commands.CancelOrder("B", "customer withdrew"))

    plan = _planner(engine, clock).replan()

    assert plan.operations == {} and plan.etas == {}


def test_a_quote_books_nothing(engine: Engine, bus: MessageBus, clock: Clock) -> None:
    bus.handle(_order("A", due_h=8))
    planner = _planner(engine, clock)
    planner.replan()
    ops = _order("Q", due_h=1).operations

    quote = planner.quote(ops, quantity=10, priority=0)

    # behind A on saw-1 (660 s), then weld after A's weld
    assert quote.operations[0].start == T0 + timedelta(seconds=660)
    assert quote.completion == T0 + timedelta(seconds=1320 + 300)
    assert set(planner.replan().etas) == {"A"}


def test_an_order_queued_behind_another_is_late_by_the_plan(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    planner = _planner(engine, clock)
    bus = MessageBus(SqlUnits(session_factory(engine)), clock, plans=lambda: planner.current)
    # each order alone needs 16 min (11 min on saw-1, 5 on weld-1) and is due in 25 min
    bus.handle(_order("FIRST", due_h=25 / 60))
    bus.handle(_order("SECOND", due_h=25 / 60))
    bus.handle(commands.CheckOrders())
    assert {o: s for o, s, _ in _statuses(engine)} == {"FIRST": "at_risk", "SECOND": "at_risk"}

    planner.replan()
    bus.handle(commands.CheckOrders())

    statuses = {o: (s, r) for o, s, r in _statuses(engine)}
    # behind FIRST on saw-1, SECOND cannot make it: its ETA comes from the machine's queue
    assert statuses["SECOND"][0] == "late"
    assert any("after its due date" in reason for reason in statuses["SECOND"][1])
    assert statuses["FIRST"][0] == "at_risk"


def test_a_replan_is_asked_for_when_reality_moves_and_not_on_every_event(
    engine: Engine, clock: Clock
) -> None:
    asked: list[int] = []
    bus = MessageBus(
        SqlUnits(session_factory(engine)), clock, on_plan_change=lambda: asked.append(1)
    )
    bus.handle(_order("A", due_h=8))
    assert len(asked) == 1  # a new order
    bus.handle(commands.SetMachineState("saw-1", "s1", "RUNNING", T0))
    bus.handle(commands.RecordCycle("saw-1", "c1", 1, T0, 60.0, "A", 10))
    bus.handle(commands.MarkSilentMachinesOffline(T0, 3600))
    bus.handle(commands.CheckOrders())
    assert len(asked) == 1  # running, a part counted, nothing silent, a check: same plan
    bus.handle(commands.SetMachineState("saw-1", "s2", "DOWN", T0))
    assert len(asked) == 2  # a machine down
    bus.handle(commands.SetMachineState("saw-1", "s3", "RUNNING", T0))
    assert len(asked) == 3  # and back


def _statuses(engine: Engine) -> list[tuple[str, str, list[str]]]:
    o = orm.orders.c
    with engine.connect() as conn:
        return [
            (r[0], r[1], list(r[2]))
            for r in conn.execute(select(o.order_id, o.schedule_status, o.schedule_reasons))
        ]


def test_a_burst_of_requests_gives_one_replan(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    bus.handle(_order("A", due_h=8))
    replanned: list[object] = []
    planner = Planner(
        SqlPlanningSessions(session_factory(engine)),
        PLANT,
        clock,
        on_replanned=replanned.append,
        debounce_s=0.3,
    )
    planner.start()
    try:
        for _ in range(50):  # 50 events within ~0.1 s
            planner.request()
            time.sleep(0.002)
        wait_for(lambda: planner.replans == 1, "the first replan", 10)
        time.sleep(0.6)  # quiet: nothing more
        assert planner.replans == 1 and len(replanned) == 1
        planner.request()
        wait_for(lambda: planner.replans == 2, "the second replan", 10)
    finally:
        planner.stop()


def _single(order_id: str, work_min: float, due_min: float) -> commands.CreateOrder:
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="p",
        quantity=1,
        due_at=T0 + timedelta(minutes=due_min),
        token_hash="a" * 64,
        operations=(commands.OperationSpec(10, "press", "press-1", 0, work_min * 60),),
    )


def test_the_optimiser_plan_is_used_when_it_is_less_tardy(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    # earliest due date first: A (10 min, due 9) then B and C (1 min, due 10): 1 + 1 + 2 = 4 min
    # late in all; B and C first: 3 min (A alone is late)
    bus.handle(_single("A", 10, 9))
    bus.handle(_single("B", 1, 10))
    bus.handle(_single("C", 1, 10))
    replanned: list[Plan] = []
    policy = PlanningPolicy(Rule.EDD, 1800.0, optimise_s=5.0)
    planner = Planner(
        SqlPlanningSessions(session_factory(engine)),
        Plant(),
        clock,
        policy,
        replanned.append,
        optimise=optimise,
    )

    dispatch = planner.replan()
    wait_for(lambda: len(replanned) == 2, "two replans", 15)

    assert dispatch.eta("A") == T0 + timedelta(minutes=10)
    optimised = replanned[1]
    assert planner.current is optimised
    assert optimised.eta("A") == T0 + timedelta(minutes=12)
    assert {optimised.eta("B"), optimised.eta("C")} == {
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=2),
    }


def test_a_check_that_only_moves_an_eta_tells_the_live_views(engine: Engine, clock: Clock) -> None:
    seen: list[Changes] = []
    bus = MessageBus(SqlUnits(session_factory(engine)), clock, on_commit=seen.append)
    bus.handle(_order("A", due_h=8))
    clock.now = T0 + timedelta(minutes=5)  # on track still; its ETA moved 5 min with the clock
    seen.clear()

    bus.handle(commands.CheckOrders())

    assert [c.orders for c in seen] == [frozenset({"A"})]
    assert _statuses(engine) == [("A", "on_track", [])]
