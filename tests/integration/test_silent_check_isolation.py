"""The periodic silent-machine check on real SQLite and PostgreSQL: one machine whose row the
database refuses does not keep the others from going OFFLINE."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from tests.clock import T0, Clock
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.domain import commands
from tracker.service_layer.bus import MessageBus

pytestmark = pytest.mark.integration

_SQLITE = """
CREATE TRIGGER refuse_bad BEFORE UPDATE ON machines WHEN NEW.machine_id = 'bad-1'
BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END
"""
_PG = [
    """
CREATE FUNCTION refuse_bad() RETURNS trigger AS $$ BEGIN
  IF NEW.machine_id = 'bad-1' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
""",
    "CREATE TRIGGER refuse_bad BEFORE UPDATE ON machines FOR EACH ROW"
    " EXECUTE FUNCTION refuse_bad()",
]


def test_a_machine_the_database_refuses_does_not_stop_the_check_of_the_others(
    engine: Engine, bus: MessageBus, clock: Clock
) -> None:
    for machine in ("a-1", "bad-1", "z-1"):  # the bad one in the middle
        bus.handle(commands.SetMachineState(machine, f"{machine}-s", "RUNNING", T0))
    with engine.begin() as conn:
        for statement in [_SQLITE] if engine.dialect.name == "sqlite" else _PG:
            conn.exec_driver_sql(statement)
    clock.now = T0 + timedelta(seconds=400)

    bus.handle(commands.MarkSilentMachinesOffline(clock.now, 300))

    with SqlUnitOfWork(bus.units.sessions) as uow:
        states = {m: uow.get_machine(m, for_update=False).state for m in ("a-1", "bad-1", "z-1")}
    assert states == {"a-1": "OFFLINE", "bad-1": "RUNNING", "z-1": "OFFLINE"}
