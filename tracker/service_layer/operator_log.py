"""The operator actions' log: each start, end, scrap and classification a person made at a
machine, with the key's name and role and the time, written in the action's transaction."""

from __future__ import annotations

from datetime import datetime

from .unit_of_work import OperatorActions


def record_action(
    uow: OperatorActions,
    now: datetime,
    machine_id: str,
    action: str,
    by: str,
    role: str | None,
    **details: object,
) -> None:
    """One line of the log; `details`: order_id, seq, quantity, reason, stop_id, comment."""
    uow.add_operator_action(
        machine_id=machine_id, action=action, actor=by[:200], role=role, at=now, **details
    )
