"""Order lifecycle: when an order was released, started, shipped or cancelled, and why.

Revision ID: 0004
Revises: 0003
Create Date: 2026-03-03

Frozen: plain column types, no imports from the ORM (see 0001). The status column is a plain
string (no CHECK constraint), so `shipped` and `cancelled` need no change to it. Orders stored
before this revision get the times that can be known: released at creation once past
`received`, started at their first operation's start once in progress or completed. A
downgrade turns shipped and cancelled orders into completed ones (finished, for older code).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("released_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("started_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("shipped_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("cancelled_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
    orders = sa.table(
        "orders",
        sa.column("order_id", sa.String()),
        sa.column("status", sa.String()),
        sa.column("created_at", UTC_DATETIME),
        sa.column("released_at", UTC_DATETIME),
        sa.column("started_at", UTC_DATETIME),
    )
    operations = sa.table(
        "operations",
        sa.column("order_id", sa.String()),
        sa.column("started_at", UTC_DATETIME),
    )
    op.execute(
        orders.update().where(orders.c.status != "received").values(released_at=orders.c.created_at)
    )
    first_start = (
        sa.select(sa.func.min(operations.c.started_at))
        .where(operations.c.order_id == orders.c.order_id)
        .scalar_subquery()
    )
    op.execute(
        orders.update()
        .where(orders.c.status.in_(["in_progress", "completed"]))
        .values(started_at=first_start)
    )


def downgrade() -> None:
    # the older code knows no shipped or cancelled order: both are finished, so completed
    orders = sa.table("orders", sa.column("status", sa.String()))
    op.execute(
        orders.update()
        .where(orders.c.status.in_(["shipped", "cancelled"]))
        .values(status="completed")
    )
    with op.batch_alter_table("orders") as batch:
        for name in ("cancel_reason", "cancelled_at", "shipped_at", "started_at", "released_at"):
            batch.drop_column(name)
