"""Grow a tracker database to N open orders fast: copies of its open orders, made in SQL.

Importing 8,000 more orders through `ImportOrders` takes longer than the whole bench may, so
the open orders already there (imported through the bus, then worked by the event stream) are
copied under new ids with their operations and alerts: the copies carry the same mix of
states, ETAs and active alerts, as the periodic check would find them. The copied columns come
from the ORM's tables, so the copy follows schema changes.
"""

from __future__ import annotations

from sqlalchemy import Column, Engine, Insert, Integer, Table, literal, select

from tracker.adapters import orm


def _children() -> list[Table]:
    """Tables whose rows belong to an order (a foreign key to orders.order_id)."""
    key = orm.orders.c.order_id
    return [
        t
        for t in orm.metadata.sorted_tables
        if any(fk.column is key for fk in t.foreign_keys) and "order_id" in t.c
    ]


def _copy(table: Table, ids: list[str], suffix: str) -> Insert:
    """INSERT ... SELECT of `table`'s rows for these orders, order ids suffixed, new row ids."""
    cols: list[Column[object]] = [
        c for c in table.columns if not (c.primary_key and isinstance(c.type, Integer))
    ]
    values = [(c + literal(suffix)).label(c.name) if c.name == "order_id" else c for c in cols]
    source = select(*values).where(table.c.order_id.in_(ids))
    return table.insert().from_select([c.name for c in cols], source)


def grow_open_orders(engine: Engine, target: int) -> int:
    """Copy open orders until `target` are open; returns how many were added."""
    o = orm.orders.c
    with engine.begin() as conn:
        ids = list(conn.scalars(select(o.order_id).where(o.status != "completed")))
        if not ids:
            raise RuntimeError("no open order to copy")
        added, copy = 0, 0
        while len(ids) + added < target:
            copy += 1
            chunk = ids[: target - len(ids) - added]
            for table in [orm.orders, *_children()]:
                conn.execute(_copy(table, chunk, f"~{copy}"))
            added += len(chunk)
    return added
