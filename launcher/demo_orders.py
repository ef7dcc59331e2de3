"""The demo's orders go straight into its own tracker: ids free in its database, orders placed
on its message bus (times compressed by the speed factor, as device_sim/rehearsal.py does over
HTTP for a tracker elsewhere)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from device_sim.rehearsal import Place, due_at
from device_sim.scenario import OrderSpec
from tracker.adapters import orm
from tracker.auth.order_tokens import hash_token, new_token
from tracker.bootstrap import Tracker
from tracker.domain import commands


def free_ids(tracker: Tracker, order_ids: list[str], number: int) -> dict[str, str]:
    """Scenario order id -> an id not in the tracker's database yet: as written on a data
    directory's first run, `-r<run>` on later ones (or in a database shared across runs)."""
    with tracker.read_sessions() as session:
        while True:
            suffix = "" if number == 1 else f"-r{number}"
            ids = {oid: oid + suffix for oid in order_ids}
            taken = session.scalar(
                select(func.count()).where(orm.orders.c.order_id.in_(list(ids.values())))
            )
            if not taken:
                return ids
            number += 1


def bus_placer(tracker: Tracker, start: datetime, speed: float) -> Place:
    """Places scenario orders with the tracker's own bus; returns each customer's token."""

    def place(spec: OrderSpec, order_id: str) -> str:
        token = new_token()
        tracker.bus.handle(
            commands.CreateOrder(
                order_id=order_id,
                customer=spec.customer,
                product=spec.product,
                quantity=spec.quantity,
                due_at=due_at(spec, start, speed),
                token_hash=hash_token(token),
                priority=spec.priority,
                operations=tuple(
                    commands.OperationSpec(
                        op.seq, op.name, op.machine, op.setup / speed, op.cycle / speed
                    )
                    for op in spec.routing
                ),
            )
        )
        return token

    return place
