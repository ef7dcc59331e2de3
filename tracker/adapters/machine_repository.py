"""The machines of a unit of work: loaded and locked, their state changes, intervals and alarms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tracker.domain.machine import OFFLINE, Machine, StateInterval
from tracker.service_layer.unit_of_work import MachineRow

from . import orm
from .planning_reads import MACHINE_ROWS
from .transaction_state import TransactionState


class SqlMachines:
    """Machine queries of `SqlUnitOfWork` (mixed in: it provides `session` and `_tx`)."""

    session: Session
    _tx: TransactionState

    def get_machine(self, machine_id: str, *, for_update: bool = True) -> Machine:
        cached = self._tx.locked_machines.get(machine_id)
        if cached is not None:
            # no command changed it before asking for it: its state now is its state before
            self._tx.loaded_states.setdefault(machine_id, cached.state)
            return cached
        machine = None
        if machine_id not in self._tx.unknown_machines:
            stmt = select(Machine).where(orm.machines.c.machine_id == machine_id)
            if for_update:
                stmt = stmt.with_for_update()
            machine = self.session.scalars(stmt).first()
        self._tx.loaded_states.setdefault(machine_id, machine.state if machine else None)
        if machine is None:
            machine = Machine(machine_id)
            self.session.add(machine)
        if for_update:
            self._tx.locked_machines[machine_id] = machine
        return machine

    def machines_heard_before(
        self, before: datetime, only: Iterable[str] | None = None, skip: Iterable[str] = ()
    ) -> list[Machine]:
        """Machines not OFFLINE whose last event came before `before` (locked for update);
        `only` these (None: any) and none of `skip`."""
        m = orm.machines.c
        heard = func.coalesce(m.last_heard_at, m.last_seen)
        stmt = (
            select(Machine)
            .where(m.state != OFFLINE, heard.is_not(None), heard <= before)
            .order_by(m.machine_id)
            .with_for_update()
        )
        if only is not None:
            stmt = stmt.where(m.machine_id.in_(sorted(only)))
        skipped = sorted(skip)
        if skipped:
            stmt = stmt.where(m.machine_id.not_in(skipped))
        machines = list(self.session.scalars(stmt))
        for machine in machines:
            self._tx.loaded_states.setdefault(machine.machine_id, machine.state)
        return machines

    def machines_touched(self) -> list[str]:
        """Machines this unit of work loaded (for update) or created."""
        return list(self._tx.loaded_states)

    def machine_state_changes(self) -> dict[str, tuple[str | None, str | None]]:
        """(state before, state now) of the machines whose state this unit of work changed."""
        changes = {}
        for machine_id, before in self._tx.loaded_states.items():
            machine = self.session.get(Machine, machine_id)
            now = machine.state if machine is not None else None
            if now != before:
                changes[machine_id] = (before, now)
        return changes

    def machines(self) -> list[MachineRow]:
        """(machine id, state, bound order, bound operation) of every machine, read once."""
        if self._tx.machines is None:
            # what this unit of work changed is taken from the session rather than flushed
            # first: a batch's changes are then written once, at commit
            with self.session.no_autoflush:
                rows = self.session.execute(MACHINE_ROWS)
                found = {r[0]: (r[0], r[1], r[2], r[3]) for r in rows}
            for obj in [*self.session.identity_map.values(), *self.session.new]:
                if isinstance(obj, Machine):
                    found[obj.machine_id] = (obj.machine_id, obj.state, obj.order_id, obj.seq)
            self._tx.machines = list(found.values())
        return self._tx.machines

    def add_state_interval(self, interval: StateInterval) -> None:
        # on the session's connection: no autoflush of every change pending in a batch (these
        # rows refer to nothing the session holds)
        self.session.connection().execute(
            insert(orm.machine_states).values(
                machine_id=interval.machine_id,
                state=interval.state,
                started_at=interval.started_at,
                ended_at=interval.ended_at,
            )
        )

    def add_alarm(self, **values: Any) -> None:
        self.session.connection().execute(insert(orm.alarms).values(**values))

    def add_unassigned(self, **values: Any) -> None:
        """Keep a machine event that could not be attributed to an order's operation."""
        self.session.connection().execute(insert(orm.unassigned_events).values(**values))
