"""Machine events: scrap quantities, counter and state bookkeeping, state intervals, alarms and
unassigned events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-02

Frozen: plain column types, no imports from the ORM (see 0001). New NOT NULL counters get a
server default of 0 so that existing rows take it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", UTC_DATETIME, nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index(op.f("ix_alarms_machine_id"), "alarms", ["machine_id"], unique=False)
    op.create_table(
        "machine_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_states")),
    )
    op.create_index(
        "ix_machine_states_machine_id_started_at",
        "machine_states",
        ["machine_id", "started_at"],
        unique=False,
    )
    op.create_table(
        "unassigned_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("event_at", UTC_DATETIME, nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unassigned_events")),
    )
    op.create_index(
        op.f("ix_unassigned_events_machine_id"), "unassigned_events", ["machine_id"], unique=False
    )
    with op.batch_alter_table("machines") as batch_op:
        batch_op.add_column(sa.Column("last_scrap_counter", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_count_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("state_since", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("last_heard_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(
            sa.Column("stale_events", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("operations") as batch_op:
        batch_op.add_column(
            sa.Column("scrap_qty", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch_op:
        batch_op.drop_column("scrap_qty")
    with op.batch_alter_table("machines") as batch_op:
        batch_op.drop_column("stale_events")
        batch_op.drop_column("last_heard_at")
        batch_op.drop_column("state_since")
        batch_op.drop_column("last_count_at")
        batch_op.drop_column("last_scrap_counter")
    op.drop_index(op.f("ix_unassigned_events_machine_id"), table_name="unassigned_events")
    op.drop_table("unassigned_events")
    op.drop_index("ix_machine_states_machine_id_started_at", table_name="machine_states")
    op.drop_table("machine_states")
    op.drop_index(op.f("ix_alarms_machine_id"), table_name="alarms")
    op.drop_table("alarms")
