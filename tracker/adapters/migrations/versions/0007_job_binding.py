"""Job binding: the parts of unassigned cycles and the job that took them; the binding log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Frozen: plain column types, no imports from the ORM (see 0001). Unassigned cycles stored
before this revision have no part counts and are never claimed by a job.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("unassigned_events") as batch:
        batch.add_column(sa.Column("good_qty", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("scrap_qty", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assigned_order_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("assigned_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assigned_at", UTC_DATETIME, nullable=True))
    op.create_table(
        "job_bindings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.Column("claimed_good", sa.Integer(), nullable=False),
        sa.Column("claimed_scrap", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_bindings")),
    )
    op.create_index(
        op.f("ix_job_bindings_machine_id"), "job_bindings", ["machine_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_job_bindings_machine_id"), table_name="job_bindings")
    op.drop_table("job_bindings")
    with op.batch_alter_table("unassigned_events") as batch:
        batch.drop_column("assigned_at")
        batch.drop_column("assigned_seq")
        batch.drop_column("assigned_order_id")
        batch.drop_column("scrap_qty")
        batch.drop_column("good_qty")
