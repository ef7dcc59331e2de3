"""Parked messages: machine events that could not be applied, kept to be replayed; PLC
counters in 64 bits.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Frozen: plain column types, no imports from the ORM (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "parked_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("traceback_id", sa.String(length=12), nullable=False),
        sa.Column("first_failed_at", UTC_DATETIME, nullable=False),
        sa.Column("last_failed_at", UTC_DATETIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_messages")),
    )
    with op.batch_alter_table("machines") as batch:
        batch.alter_column("last_counter", type_=sa.BigInteger(), existing_type=sa.Integer())
        batch.alter_column("last_scrap_counter", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        batch.alter_column("last_scrap_counter", type_=sa.Integer(), existing_type=sa.BigInteger())
        batch.alter_column("last_counter", type_=sa.Integer(), existing_type=sa.BigInteger())
    op.drop_table("parked_messages")
