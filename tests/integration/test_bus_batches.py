"""`MessageBus.handle_batch` on real SQLite and PostgreSQL: one transaction, rejects alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from tests.clock import T0
from tracker.adapters import orm
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.domain import commands
from tracker.domain.model import DomainError
from tracker.service_layer.bus import MessageBus

pytestmark = pytest.mark.integration

MIN = timedelta(minutes=1)


def _order(order_id: str, qty: int, due: timedelta = timedelta(days=2)) -> commands.CreateOrder:
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="bracket",
        quantity=qty,
        due_at=T0 + due,
        token_hash="a" * 64,
        operations=(
            commands.OperationSpec(10, "cut", "saw-1", 60, 30),
            commands.OperationSpec(20, "weld", "weld-1", 60, 30),
        ),
    )


def _alarm(event_id: str, machine: str = "saw-1") -> commands.RecordAlarm:
    return commands.RecordAlarm(machine, event_id, "JAM", "feeder jammed", T0)


@pytest.fixture(params=[0, 3], ids=["one-refusal", "many-refusals"])
def more_refusals(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[commands.Command]]:
    """Commands refused at the end of a batch: with 3 more, each command gets a savepoint."""
    entered = []
    savepoint = SqlUnitOfWork.savepoint

    def counted(uow: SqlUnitOfWork) -> Any:
        entered.append(1)
        return savepoint(uow)

    monkeypatch.setattr(SqlUnitOfWork, "savepoint", counted)
    # SO-1's operation 10 is completed by then: starting it again is refused
    yield [commands.StartJob("mill-9", f"x{i}", "SO-1", 10, T0) for i in range(request.param)]
    assert bool(entered) == (request.param > 0)  # a batch takes savepoints only when it must


def _good(engine: Engine, order_id: str) -> list[int]:
    op = orm.operations.c
    stmt = select(op.good_qty).where(op.order_id == order_id).order_by(op.seq)
    with engine.connect() as conn:
        return list(conn.scalars(stmt))


def _column(engine: Engine, column: ColumnElement[Any], *where: ColumnElement[bool]) -> list[Any]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(column).where(*where)))


def test_a_command_rejected_in_a_batch_is_rolled_back_alone_and_the_rest_commits(
    bus: MessageBus, engine: Engine, more_refusals: list[commands.Command]
) -> None:
    bus.handle(_order("SO-1", qty=1))
    bus.handle(_order("SO-2", qty=5))
    rejected = commands.StartJob("mill-1", "m1", "SO-1", 10, T0 + 3 * MIN)
    outcomes = bus.handle_batch(
        [
            commands.StartJob("saw-1", "s1", "SO-1", 10, T0),
            commands.RecordCycle("saw-1", "s2", 100, T0 + MIN),  # SO-1's one part: op 10 done
            rejected,  # op 10 of SO-1 is completed: refused, after its machine was heard from
            commands.StartJob("saw-1", "s3", "SO-2", 10, T0 + 4 * MIN),
            commands.RecordCycle("saw-1", "s4", 103, T0 + 5 * MIN),  # 3 more, now for SO-2
            commands.StartJob("weld-1", "w1", "SO-1", 20, T0 + 6 * MIN),
            *more_refusals,
        ]
    )
    assert outcomes[:2] == [True, True] and outcomes[3:6] == [True, True, True]
    assert all(isinstance(o, DomainError) for o in outcomes[6:])
    assert isinstance(outcomes[2], DomainError) and "completed" in str(outcomes[2])
    assert _good(engine, "SO-1") == [1, 0] and _good(engine, "SO-2") == [3, 0]
    m = orm.machines.c
    # the refused command's machine (created as it was heard from) went with it
    assert _column(engine, m.machine_id) == ["saw-1", "weld-1"]
    assert _column(engine, m.order_id, m.machine_id == "saw-1") == ["SO-2"]
    # ... and so did its event id: sent again, it is judged again rather than ignored
    pe = orm.processed_events.c
    assert _column(engine, pe.event_id) == ["s1", "s2", "s3", "s4", "w1"]
    (again,) = bus.handle_batch([rejected])
    assert isinstance(again, DomainError)


def test_an_event_id_seen_twice_in_a_batch_or_again_in_a_later_batch_counts_once(
    bus: MessageBus, engine: Engine, more_refusals: list[commands.Command]
) -> None:
    bus.handle(_order("SO-1", qty=1))
    assert bus.handle_batch([_alarm("a1"), _alarm("a1"), _alarm("a2")]) == [True, False, True]
    assert bus.handle_batch([_alarm("a2"), _alarm("a3"), _alarm("a3")]) == [False, True, False]
    # with refused commands in the batch
    unassigned = commands.StartJob("saw-1", "x1", "SO-404", 10, T0)  # unknown order: kept aside
    done = commands.StartJob("saw-1", "s1", "SO-1", 10, T0)
    bus.handle_batch([done, commands.RecordCycle("saw-1", "s2", 1, T0 + MIN)])
    outcomes = bus.handle_batch(
        [
            _alarm("a4"),
            commands.StartJob("saw-1", "s3", "SO-1", 10, T0),
            _alarm("a4"),
            unassigned,
            *more_refusals,
            _alarm("a5"),
            _alarm("a5"),
        ]
    )
    assert outcomes[0] is True and outcomes[2:4] == [False, True] and outcomes[-2:] == [True, False]
    assert all(isinstance(o, DomainError) for o in [outcomes[1], *outcomes[4:-2]])
    # the same event id from another machine is another event
    assert bus.handle_batch([_alarm("a1", machine="weld-1")]) == [True]
    a = orm.alarms.c
    assert _column(engine, a.event_id, a.machine_id == "saw-1") == ["a1", "a2", "a3", "a4", "a5"]
    assert _column(engine, a.event_id, a.machine_id == "weld-1") == ["a1"]


def test_events_raised_before_a_rejected_command_are_still_handled(
    bus: MessageBus, engine: Engine, more_refusals: list[commands.Command]
) -> None:
    bus.handle(_order("SO-1", qty=1))
    bus.handle_batch(
        [
            commands.StartJob("saw-1", "s0", "SO-1", 10, T0 - MIN),
            commands.RecordCycle("saw-1", "c0", 7, T0 - MIN),
        ]
    )
    bus.handle(_order("SO-L", qty=1, due=MIN))  # 3 minutes of work, due in 1: late
    bus.handle(commands.CheckOrders())
    al = orm.alerts.c
    assert _column(engine, al.state, al.order_id == "SO-L") == ["active"]
    outcomes = bus.handle_batch(
        [
            commands.StartJob("saw-1", "s1", "SO-L", 10, T0),
            commands.RecordCycle("saw-1", "s2", 1, T0 + MIN),
            commands.StartJob("weld-1", "w1", "SO-L", 20, T0 + MIN),
            commands.RecordCycle("weld-1", "w2", 1, T0 + 2 * MIN),  # the order completes
            commands.StartJob("saw-1", "s3", "SO-L", 10, T0 + 3 * MIN),  # refused: completed
            _alarm("a1"),
            *more_refusals,
        ]
    )
    refused = ["DomainError"] * len(more_refusals)
    assert [type(o).__name__ for o in outcomes] == ["bool"] * 4 + ["DomainError", "bool", *refused]
    # OrderCompleted, raised before the refusal, cleared the order's alert
    assert _column(engine, al.state, al.order_id == "SO-L") == ["cleared"]


def test_a_database_error_in_a_batch_commits_none_of_it(bus: MessageBus, engine: Engine) -> None:
    bus.handle(_order("SO-1", qty=5))
    batch: list[commands.Command] = [
        commands.StartJob("saw-1", "s1", "SO-1", 10, T0),
        commands.RecordCycle("saw-1", "s2", 1, T0 + MIN),
        commands.SetMachineState("saw-1", "s3", "DOWN", T0 + 2 * MIN),
        _alarm("a1"),  # written last: its table is gone
    ]
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE alarms RENAME TO alarms_away")
    with pytest.raises(SQLAlchemyError):
        bus.handle_batch(batch)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE alarms_away RENAME TO alarms")
    assert _good(engine, "SO-1") == [0, 0]
    for table in (orm.processed_events, orm.machines, orm.machine_states, orm.alarms):
        assert _column(engine, next(iter(table.primary_key.columns))) == [], table.name
    # nothing was recorded, so the same batch again is applied, not taken for redeliveries
    assert bus.handle_batch(batch) == [True, True, True, True]
    assert _good(engine, "SO-1") == [1, 0]
    assert _column(engine, orm.alarms.c.event_id) == ["a1"]
