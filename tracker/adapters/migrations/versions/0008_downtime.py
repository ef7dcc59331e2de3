"""Downtime records: unplanned stops of machines, their alarm and their reason.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Frozen: plain column types, no imports from the ORM (see 0001). Stops before this revision
have no records.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "downtime",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("machine_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("alarm_code", sa.String(length=128), nullable=True),
        sa.Column("alarm_text", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=True),
        sa.Column("classified_by", sa.String(length=200), nullable=True),
        sa.Column("classified_at", UTC_DATETIME, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downtime")),
    )
    op.create_index(
        "ix_downtime_machine_id_started_at", "downtime", ["machine_id", "started_at"], unique=False
    )
    op.create_index("ix_downtime_started_at", "downtime", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_downtime_started_at", table_name="downtime")
    op.drop_index("ix_downtime_machine_id_started_at", table_name="downtime")
    op.drop_table("downtime")
