"""Initial tables: orders, operations, machines, processed events and alerts.

Revision ID: 0001
Revises:
Create Date: 2026-03-02

Frozen: it spells out plain column types instead of importing the ORM, so later model changes
cannot alter what it does. Datetimes are stored as UTC (the ORM's UTCDateTime) and enums as
VARCHAR(20) without a CHECK constraint (native_enum=False).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


# size: a migration is history already applied to databases: read top to bottom, never edited
def upgrade() -> None:
    op.create_table(
        "machines",
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("last_counter", sa.Integer(), nullable=True),
        sa.Column("last_seen", UTC_DATETIME, nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("machine_id", name=op.f("pk_machines")),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("schedule_status", sa.String(length=20), nullable=False),
        sa.Column("eta", UTC_DATETIME, nullable=True),
        sa.Column("completed_at", UTC_DATETIME, nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    op.create_table(
        "processed_events",
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("machine_id", "event_id", name=op.f("pk_processed_events")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("raised_at", UTC_DATETIME, nullable=False),
        sa.Column("eta", UTC_DATETIME, nullable=True),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.order_id"],
            name=op.f("fk_alerts_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("machine", sa.String(length=100), nullable=False),
        sa.Column("setup_s", sa.Float(), nullable=False),
        sa.Column("cycle_s", sa.Float(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("good_qty", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("completed_at", UTC_DATETIME, nullable=True),
        sa.Column("observed_cycle_s", sa.Float(), nullable=True),
        sa.Column("last_count_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.order_id"],
            name=op.f("fk_operations_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
        sa.UniqueConstraint("order_id", "seq", name=op.f("uq_operations_order_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("operations")
    op.drop_table("alerts")
    op.drop_table("processed_events")
    op.drop_table("orders")
    op.drop_table("machines")
