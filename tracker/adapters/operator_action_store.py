"""The operator actions' log in the unit of work, and the job a machine worked last."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from . import orm


def last_job_query(machine_id: str) -> Select[tuple[str, int]]:
    """(order, operation) of the newest line of the machine's binding log."""
    j = orm.job_bindings.c
    return (
        select(j.order_id, j.seq)
        .where(j.machine_id == machine_id)
        .order_by(j.at.desc(), j.id.desc())
        .limit(1)
    )


class OperatorActionStore:
    """The unit of work's operator-action queries (mixed into `SqlUnitOfWork`)."""

    session: Session

    def add_operator_action(self, **values: Any) -> None:
        """One line of the log."""
        self.session.connection().execute(insert(orm.operator_actions).values(**values))

    def last_job(self, machine_id: str) -> tuple[str, int] | None:
        """(order, operation) of the newest line of the machine's binding log, or None."""
        row = self.session.connection().execute(last_job_query(machine_id)).first()
        return None if row is None else (row.order_id, row.seq)
